package ferry.actors.device;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.RoundInstruction;
import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.orchestrate.EnergyModel;

/**
 * What a finished round cost a device, by the planner's energy model: the FLOPs it computed (forward and
 * backward of the layers it holds, for every sample it trained) and the bits its radio moved (the split steps as
 * measured, plus its part of the model down at the start and up at the end).
 */
final class EnergyUse {
    private EnergyUse() {}

    static double joules(RoundInstruction ins, long samplesTrained, long stepBytes) {
        ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
        CutProfile p = spec.profile(ins.offloaded() ? ins.cut() : spec.defaultCut());
        long perSample = p.clientForwardFlops() + p.clientBackwardFlops();
        long modelBytes = p.clientParamBytes();
        if (!ins.offloaded()) { // the whole model on the device
            perSample += p.serverForwardFlops() + p.serverBackwardFlops();
            modelBytes += p.serverParamBytes();
        }
        double bits = 8.0 * (stepBytes + 2 * modelBytes);
        return EnergyModel.DEFAULT.joules((double) perSample * samplesTrained, bits);
    }
}
