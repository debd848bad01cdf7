package ferry.zoo.train;

import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.tensor.TensorCodec;

/**
 * Epoch loops for one process: split training (client and server half, with every activation and gradient
 * encoded to bytes and decoded as it would cross the network) and the monolithic reference.
 */
public final class LocalTraining {
    private LocalTraining() {}

    /** Totals over one epoch. */
    public record EpochStats(int batches, long samples, double meanLoss, double trainAccuracy, double seconds,
                             long bytesUp, long bytesDown) {
        public double samplesPerSecond() {
            return samples / seconds;
        }
    }

    /** Called every few batches during an epoch, for progress on long work. */
    public interface Progress {
        void batchDone(int batch, int of, double meanLoss);
    }

    public static final Progress SILENT = (b, of, l) -> { };

    public static EpochStats splitEpoch(ClientHalf client, ServerHalf server, ImageDataset data, BatchPlan plan,
                                        Progress progress) {
        int n = plan.batchesPerEpoch();
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        long samples = 0;
        long[] bytes = new long[2];
        for (int k = 0; k < n; k++) {
            Batch b = data.batch(plan.batch(client.cursor()));
            StepResult r = splitStep(client, server, b, bytes);
            lossSum += r.loss() * b.size();
            correct += r.correct();
            samples += b.size();
            progress.batchDone(k + 1, n, lossSum / samples);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new EpochStats(n, samples, lossSum / samples, (double) correct / samples, secs, bytes[0], bytes[1]);
    }

    public static EpochStats monoEpoch(MonolithicModel model, ImageDataset data, BatchPlan plan, Progress progress) {
        int n = plan.batchesPerEpoch();
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        long samples = 0;
        for (int k = 0; k < n; k++) {
            Batch b = data.batch(plan.batch(model.cursor()));
            StepResult r = model.step(b);
            lossSum += r.loss() * b.size();
            correct += r.correct();
            samples += b.size();
            progress.batchDone(k + 1, n, lossSum / samples);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new EpochStats(n, samples, lossSum / samples, (double) correct / samples, secs, 0, 0);
    }

    /**
     * One split step with activations and gradient encoded and decoded as on the wire; adds the bytes sent up
     * (activations and labels) and down (gradient) to {@code bytes[0]} and {@code bytes[1]}.
     */
    public static StepResult splitStep(ClientHalf client, ServerHalf server, Batch b, long[] bytes) {
        byte[] act = TensorCodec.encode(client.forward(b));
        StepResult r = server.step(TensorCodec.decode(act), b.labels());
        byte[] grad = TensorCodec.encode(r.cutGradient());
        client.backward(TensorCodec.decode(grad));
        bytes[0] += act.length + 4L * b.size();
        bytes[1] += grad.length;
        return r;
    }
}
