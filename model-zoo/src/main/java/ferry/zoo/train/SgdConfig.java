package ferry.zoo.train;

/** SGD with momentum, as PyTorch defines it: v = mu*v + (g + wd*w); w = w - lr*v. */
public record SgdConfig(float learningRate, float momentum, float weightDecay) {
    public static final SgdConfig DEFAULT = new SgdConfig(0.01f, 0.9f, 0f);

    public SgdConfig {
        if (!(learningRate > 0) || !Float.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be >= 0 and finite, got " + weightDecay);
        }
    }
}
