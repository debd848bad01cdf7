package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ferry.zoo.data.Batch;
import ferry.zoo.model.ModelSpec;

/** The whole model in one place: the reference split training must match, and what FedAvg devices train. */
public final class MonolithicModel extends Net {

    public MonolithicModel(ModelSpec spec, long seed, SgdConfig sgd) {
        super(spec, 0, spec.units().size(), seed, sgd);
    }

    public StepResult step(Batch batch) {
        checkOpen();
        checkInput(batch.inputs(), "input batch");
        checkLabels(batch.labels(), batch.size());
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = create(sub, batch.inputs());
            NDArray y = labels(sub, batch.labels());
            NDArray logits = forwardTraining(x);
            NDArray loss = Autograd.recording(() -> crossEntropy(logits, y));
            Autograd.backward(loss);
            StepResult r = new StepResult(loss.getFloat(), correct(logits, y), batch.size(), null);
            optimizerStep();
            cursor++;
            return r;
        }
    }
}
