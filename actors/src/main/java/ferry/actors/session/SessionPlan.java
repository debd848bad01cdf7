package ferry.actors.session;

import ferry.persistence.CborSerializable;
import java.util.List;

/**
 * The layout a parallel session runs with, and what the latency model predicts for it; persisted with the
 * session so the prediction can be read beside each round's measured time.
 *
 * @param cut                   the cut every device and edge use
 * @param predictedStepSeconds  one step (every device's batch through both halves), the slowest edge's
 * @param equalSplitStepSeconds the same devices at the spec's cut with an equal split, for comparison
 * @param edges                 per edge: who got which share of the radio
 * @param reason                why this cut, in words
 */
public record SessionPlan(Planning mode, int cut, double predictedStepSeconds, double equalSplitStepSeconds,
                          List<EdgePlan> edges, String reason) implements CborSerializable {
    public SessionPlan {
        edges = List.copyOf(edges);
    }

    /** One edge's devices, in plan order, with their subchannel count and uplink power. */
    public record EdgePlan(String edgeId, List<String> devices, List<Integer> subchannels, List<Double> powerW,
                           double predictedStepSeconds) implements CborSerializable {
        public EdgePlan {
            devices = List.copyOf(devices);
            subchannels = List.copyOf(subchannels);
            powerW = List.copyOf(powerW);
        }
    }
}
