package ferry.zoo;

import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;

/** The real Fashion-MNIST, loaded once per test JVM (ops/test installs Debian's package first). */
public final class TestData {
    private static Datasets.Split split;

    private TestData() {}

    public static synchronized Datasets.Split fashion() {
        if (split == null) {
            split = Datasets.fashionMnist(Datasets.fashionMnistDir());
        }
        return split;
    }

    public static ImageDataset train() {
        return fashion().train();
    }

    public static ImageDataset test() {
        return fashion().test();
    }
}
