package ferry.zoo.train;

import ferry.zoo.model.ModelSpec;

/** The units after the cut, on the edge: what every kind of server half shares. */
public abstract class ServerSide extends Net {

    protected ServerSide(ModelSpec spec, int cut, long seed, SgdConfig sgd) {
        super(spec, checked(spec, cut), spec.units().size(), seed, sgd);
    }

    private static int checked(ModelSpec spec, int cut) {
        spec.checkCut(cut);
        return cut;
    }

    public int cut() {
        return from;
    }
}
