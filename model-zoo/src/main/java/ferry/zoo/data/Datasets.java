package ferry.zoo.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where the real datasets live on a machine and how to load them as train / test pairs. */
public final class Datasets {
    /** Debian's {@code dataset-fashion-mnist} installs here. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    static final float[] FASHION_MEAN = {0.2860f};
    static final float[] FASHION_STD = {0.3530f};

    private Datasets() {}

    /** A training set and its held-out test set. */
    public record Split(ImageDataset train, ImageDataset test) {}

    /** The Fashion-MNIST directory: {@code $FERRY_FASHION_MNIST} if set, else Debian's location. */
    public static Path fashionMnistDir() {
        String env = System.getenv("FERRY_FASHION_MNIST");
        return env == null || env.isBlank() ? FASHION_MNIST_DIR : Path.of(env);
    }

    public static Split fashionMnist(Path dir) {
        return new Split(idx("fashion-mnist-train", dir, "train"), idx("fashion-mnist-test", dir, "t10k"));
    }

    /** MNIST and Fashion-MNIST share the IDX layout; {@code prefix} is "train" or "t10k". */
    public static ImageDataset idx(String name, Path dir, String prefix) {
        Path images = pick(dir, prefix + "-images-idx3-ubyte");
        Path labels = pick(dir, prefix + "-labels-idx1-ubyte");
        IdxReader.IdxArray x = IdxReader.read(images, 3);
        IdxReader.IdxArray y = IdxReader.read(labels, 1);
        if (x.dims()[0] != y.dims()[0]) {
            throw new DatasetException(labels, y.dims()[0] + " labels for " + x.dims()[0] + " images in " + images);
        }
        return new ImageDataset(name, x.data(), y.data(), 1, x.dims()[1], x.dims()[2], 10, FASHION_MEAN, FASHION_STD);
    }

    /** The CIFAR-10 binary directory ({@code cifar-10-batches-bin}) if {@code $FERRY_CIFAR10} points at one. */
    public static Path cifar10Dir() {
        String env = System.getenv("FERRY_CIFAR10");
        return env == null || env.isBlank() ? null : Path.of(env);
    }

    public static boolean cifar10Present(Path dir) {
        return dir != null && Files.isRegularFile(dir.resolve("test_batch.bin"));
    }

    public static Split cifar10(Path dir) {
        List<Path> train = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            train.add(dir.resolve("data_batch_" + i + ".bin"));
        }
        return new Split(Cifar10Reader.read("cifar10-train", train),
                Cifar10Reader.read("cifar10-test", List.of(dir.resolve("test_batch.bin"))));
    }

    /** Prefers the gzipped file when both exist; the reader reports the path if neither does. */
    private static Path pick(Path dir, String base) {
        Path gz = dir.resolve(base + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(base);
    }
}
