package ferry.zoo.model;

import ferry.zoo.model.LayerSpec.BatchNorm;
import ferry.zoo.model.LayerSpec.Conv;
import ferry.zoo.model.LayerSpec.Dense;
import ferry.zoo.model.LayerSpec.Flatten;
import ferry.zoo.model.LayerSpec.GlobalAvgPool;
import ferry.zoo.model.LayerSpec.MaxPool;
import ferry.zoo.model.LayerSpec.Relu;
import ferry.zoo.model.LayerSpec.Residual;
import java.util.Arrays;
import java.util.List;

/** The models Ferry ships, by name. */
public final class ModelSpecs {
    public static final List<String> NAMES = List.of("vgg5", "resnet8", "mlp");

    private ModelSpecs() {}

    public static ModelSpec byName(String name, int[] inputShape, int numClasses) {
        return switch (name) {
            case "vgg5" -> vgg5(inputShape, numClasses);
            case "resnet8" -> resnet8(inputShape, numClasses);
            case "mlp" -> mlp(inputShape, numClasses);
            default -> throw new IllegalArgumentException("unknown model '" + name + "'; known: " + NAMES);
        };
    }

    /**
     * VGG-5 as FedFly uses it: conv32-pool-conv64-pool | conv64-fc128-fc10, each conv with BN and ReLU, 3x3 with
     * padding 1. The default cut (4) puts the two convolutions and pools on the device.
     */
    public static ModelSpec vgg5(int[] inputShape, int numClasses) {
        requireImage(inputShape);
        return new ModelSpec("vgg5", inputShape, numClasses, List.of(
                Unit.of("conv32", new Conv(32, 3, 1, 1), new BatchNorm(), new Relu()),
                Unit.of("pool1", new MaxPool(2, 2)),
                Unit.of("conv64a", new Conv(64, 3, 1, 1), new BatchNorm(), new Relu()),
                Unit.of("pool2", new MaxPool(2, 2)),
                Unit.of("conv64b", new Conv(64, 3, 1, 1), new BatchNorm(), new Relu()),
                Unit.of("fc128", new Flatten(), new Dense(128), new Relu()),
                Unit.of("fc10", new Dense(numClasses))), 4);
    }

    /** A small ResNet (8 weight layers): a 16-filter stem, three basic blocks (16, 32/2, 64/2), pooling, fc. */
    public static ModelSpec resnet8(int[] inputShape, int numClasses) {
        requireImage(inputShape);
        return new ModelSpec("resnet8", inputShape, numClasses, List.of(
                Unit.of("stem", new Conv(16, 3, 1, 1), new BatchNorm(), new Relu()),
                Unit.of("res16", new Residual(16, 1)),
                Unit.of("res32", new Residual(32, 2)),
                Unit.of("res64", new Residual(64, 2)),
                Unit.of("pool", new GlobalAvgPool()),
                Unit.of("fc", new Dense(numClasses))), 2);
    }

    /** A small MLP, the cheapest model: for tests and very weak devices. */
    public static ModelSpec mlp(int[] inputShape, int numClasses) {
        return new ModelSpec("mlp", inputShape, numClasses, List.of(
                Unit.of("fc256", new Flatten(), new Dense(256), new Relu()),
                Unit.of("fc128", new Dense(128), new Relu()),
                Unit.of("out", new Dense(numClasses))), 1);
    }

    private static void requireImage(int[] s) {
        if (s.length != 3 || s[0] < 1 || s[1] < 4 || s[2] < 4) {
            throw new IllegalArgumentException("expected an image input shape (C, H, W) of at least 4x4, got "
                    + Arrays.toString(s));
        }
    }
}
