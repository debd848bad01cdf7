package ferry.zoo.model;

import java.util.List;

/** A named group of layers: the granularity at which a model may be cut between device and edge. */
public record Unit(String name, List<LayerSpec> layers) {
    public Unit {
        layers = List.copyOf(layers);
    }

    public static Unit of(String name, LayerSpec... layers) {
        return new Unit(name, List.of(layers));
    }

    public int[] outShape(int[] in) {
        int[] s = in;
        for (LayerSpec l : layers) {
            s = l.outShape(s);
        }
        return s;
    }
}
