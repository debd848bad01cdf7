package ferry.zoo.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads CIFAR-10 binary batches ({@code data_batch_1.bin} ... {@code data_batch_5.bin}, {@code test_batch.bin}):
 * records of one label byte followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32x32).
 */
public final class Cifar10Reader {
    public static final int RECORD = 1 + 3 * 32 * 32;
    static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
    static final float[] STD = {0.2470f, 0.2435f, 0.2616f};

    private Cifar10Reader() {}

    public static ImageDataset read(String name, List<Path> files) {
        byte[][] contents = new byte[files.size()][];
        long records = 0;
        for (int f = 0; f < files.size(); f++) {
            Path p = files.get(f);
            if (!Files.isRegularFile(p)) {
                throw new DatasetException(p, "file not found: expected a CIFAR-10 binary batch of "
                        + RECORD + "-byte records");
            }
            try {
                contents[f] = Files.readAllBytes(p);
            } catch (IOException e) {
                throw new DatasetException(p, "cannot read: " + e.getMessage(), e);
            }
            if (contents[f].length == 0 || contents[f].length % RECORD != 0) {
                throw new DatasetException(p, "size " + contents[f].length + " is not a whole number of "
                        + RECORD + "-byte CIFAR-10 records");
            }
            records += contents[f].length / RECORD;
        }
        int n = Math.toIntExact(records);
        byte[] pixels = new byte[n * (RECORD - 1)];
        byte[] labels = new byte[n];
        int i = 0;
        for (int f = 0; f < contents.length; f++) {
            byte[] c = contents[f];
            for (int off = 0; off < c.length; off += RECORD, i++) {
                int label = Byte.toUnsignedInt(c[off]);
                if (label > 9) {
                    throw new DatasetException(files.get(f), "record " + (off / RECORD) + " has label " + label
                            + ", expected 0..9");
                }
                labels[i] = c[off];
                System.arraycopy(c, off + 1, pixels, i * (RECORD - 1), RECORD - 1);
            }
        }
        return new ImageDataset(name, pixels, labels, 3, 32, 32, 10, MEAN, STD);
    }
}
