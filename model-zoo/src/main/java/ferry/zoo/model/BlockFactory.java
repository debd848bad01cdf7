package ferry.zoo.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/** Turns layer specs into DJL blocks; one {@link SequentialBlock} per unit so halves can be assembled at any cut. */
public final class BlockFactory {
    private BlockFactory() {}

    /** The unit's block for per-sample input shape {@code in}. */
    public static SequentialBlock unit(Unit unit, int[] in) {
        SequentialBlock seq = new SequentialBlock();
        int[] s = in;
        for (LayerSpec l : unit.layers()) {
            seq.add(layer(l, s));
            s = l.outShape(s);
        }
        return seq;
    }

    static Block layer(LayerSpec spec, int[] in) {
        // Java 17: no pattern switch yet; the sealed interface keeps this list complete.
        if (spec instanceof LayerSpec.Conv c) {
            return conv(c);
        } else if (spec instanceof LayerSpec.BatchNorm) {
            return BatchNorm.builder().build();
        } else if (spec instanceof LayerSpec.Relu) {
            return Activation.reluBlock();
        } else if (spec instanceof LayerSpec.MaxPool p) {
            return Pool.maxPool2dBlock(new Shape(p.size(), p.size()), new Shape(p.stride(), p.stride()));
        } else if (spec instanceof LayerSpec.GlobalAvgPool) {
            return Pool.globalAvgPool2dBlock();
        } else if (spec instanceof LayerSpec.Flatten) {
            return Blocks.batchFlattenBlock();
        } else if (spec instanceof LayerSpec.Dense d) {
            return Linear.builder().setUnits(d.units()).build();
        } else if (spec instanceof LayerSpec.Residual r) {
            return residual(r, in);
        }
        throw new IllegalArgumentException("no block for " + spec);
    }

    private static Block conv(LayerSpec.Conv c) {
        return Conv2d.builder()
                .setKernelShape(new Shape(c.kernel(), c.kernel()))
                .setFilters(c.filters())
                .optStride(new Shape(c.stride(), c.stride()))
                .optPadding(new Shape(c.padding(), c.padding()))
                .build();
    }

    /** The basic block; the shortcut projects (conv1x1 + BN) when stride or width change. */
    private static Block residual(LayerSpec.Residual r, int[] in) {
        SequentialBlock main = new SequentialBlock()
                .add(conv(r.conv1()))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(conv(r.conv2()))
                .add(BatchNorm.builder().build());
        Block shortcut = r.projects(in)
                ? new SequentialBlock().add(conv(r.projection())).add(BatchNorm.builder().build())
                : Blocks.identityBlock();
        ParallelBlock sum = new ParallelBlock(
                branches -> new NDList(branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow())),
                List.of(main, shortcut));
        return new SequentialBlock().add(sum).add(Activation.reluBlock());
    }
}
