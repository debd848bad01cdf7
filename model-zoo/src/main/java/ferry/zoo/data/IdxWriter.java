package ferry.zoo.data;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a single-channel image dataset as the IDX pair {@link IdxReader} and {@link Datasets#idx} read:
 * {@code PREFIX-images-idx3-ubyte} and {@code PREFIX-labels-idx1-ubyte}, uncompressed. A real device's local data
 * directory is made this way (a slice of Fashion-MNIST, for tests and demos).
 */
public final class IdxWriter {
    private IdxWriter() {}

    public static void write(ImageDataset d, Path dir, String prefix) {
        if (d.channels() != 1) {
            throw new IllegalArgumentException("IDX image files hold single-channel images; " + d.name() + " has "
                    + d.channels() + " channels");
        }
        try {
            Files.createDirectories(dir);
            try (DataOutputStream out = open(dir.resolve(prefix + "-images-idx3-ubyte"))) {
                out.writeInt(0x00000803);
                out.writeInt(d.size());
                out.writeInt(d.height());
                out.writeInt(d.width());
                out.write(d.pixelBytes());
            }
            try (DataOutputStream out = open(dir.resolve(prefix + "-labels-idx1-ubyte"))) {
                out.writeInt(0x00000801);
                out.writeInt(d.size());
                out.write(d.labelBytes());
            }
        } catch (IOException e) {
            throw new DatasetException(dir, "cannot write IDX files: " + e.getMessage(), e);
        }
    }

    private static DataOutputStream open(Path p) throws IOException {
        OutputStream o = Files.newOutputStream(p);
        return new DataOutputStream(new BufferedOutputStream(o, 1 << 16));
    }
}
