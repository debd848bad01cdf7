package ferry.actors.node;

import ferry.actors.device.DataPartition;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The datasets a node holds, loaded once per JVM and shared by every simulated device on it (each device only
 * ever reads the indices of its own partition; raw samples never leave the Device actor).
 */
public final class DatasetRegistry {
    public static final String FASHION_MNIST = "fashion-mnist";
    public static final String CIFAR10 = "cifar10";
    /** Fashion-MNIST padded to 32x32 and replicated to 3 channels: the 32x32x3 input shape on real data. */
    public static final String FASHION_MNIST_RGB32 = "fashion-mnist-rgb32";
    public static final List<String> NAMES = List.of(FASHION_MNIST, CIFAR10, FASHION_MNIST_RGB32);

    private final Map<String, Datasets.Split> loaded = new ConcurrentHashMap<>();
    private final Map<DataPartition, int[]> partitions = new ConcurrentHashMap<>();

    public static void checkName(String dataset) {
        if (!NAMES.contains(dataset)) {
            throw new IllegalArgumentException("unknown dataset '" + dataset + "'; known: " + NAMES);
        }
    }

    /** Per-sample input shape, known without loading the data. */
    public static int[] sampleShape(String dataset) {
        checkName(dataset);
        return dataset.equals(FASHION_MNIST) ? new int[] {1, 28, 28} : new int[] {3, 32, 32};
    }

    public Datasets.Split split(String dataset) {
        checkName(dataset);
        if (dataset.equals(FASHION_MNIST_RGB32)) {
            // derived outside computeIfAbsent: a map must not be updated from inside its own update
            Datasets.Split have = loaded.get(dataset);
            if (have == null) {
                Datasets.Split f = split(FASHION_MNIST);
                have = new Datasets.Split(f.train().padAndReplicate(3, 32), f.test().padAndReplicate(3, 32));
                Datasets.Split raced = loaded.putIfAbsent(dataset, have);
                have = raced != null ? raced : have;
            }
            return have;
        }
        return loaded.computeIfAbsent(dataset, d -> {
            if (d.equals(CIFAR10)) {
                Path dir = Datasets.cifar10Dir();
                if (!Datasets.cifar10Present(dir)) {
                    throw new IllegalStateException("CIFAR-10 binary files not found: set FERRY_CIFAR10 to a "
                            + "cifar-10-batches-bin directory");
                }
                return Datasets.cifar10(dir);
            }

            return Datasets.fashionMnist(Datasets.fashionMnistDir());
        });
    }

    public ImageDataset train(String dataset) {
        return split(dataset).train();
    }

    public ImageDataset test(String dataset) {
        return split(dataset).test();
    }

    /** How many samples a partition holds (a remote device's as it declared them). */
    public int partitionSize(DataPartition p) {
        return p.remote() ? p.poolSize() : partition(p).length;
    }

    /** The dataset indices of one partition; deterministic for its seed. */
    public int[] partition(DataPartition p) {
        if (p.remote()) {
            throw new IllegalArgumentException("the samples of a remote device are on the device, not in the cluster");
        }
        return partitions.computeIfAbsent(p, k -> {
            ImageDataset train = train(k.dataset());
            ImageDataset pool = k.poolSize() > 0 ? train.head(k.poolSize()) : train;
            List<int[]> parts = k.scheme().equals("dirichlet")
                    ? Partitioner.dirichlet(pool, k.parts(), k.alpha(), k.seed())
                    : Partitioner.iid(pool.size(), k.parts(), k.seed());
            return parts.get(k.index());
        });
    }
}
