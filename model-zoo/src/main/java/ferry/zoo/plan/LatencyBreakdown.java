package ferry.zoo.plan;

import java.util.Arrays;

/**
 * One EPSL round's predicted latency, term by term, in seconds. Per-device arrays are indexed like the device
 * list. The round is: every device computes its half and uploads (the slowest decides), the edge runs forward and
 * backward, every device downloads its gradients and back-propagates (the slowest decides again):
 * {@code total = max_i(clientForward_i + uplink_i) + serverForward + serverBackward
 * + max_i(downlink_i + clientBackward_i)}.
 */
public record LatencyBreakdown(
        double[] clientForward,
        double[] uplink,
        double serverForward,
        double serverBackward,
        double[] downlink,
        double[] clientBackward,
        double total) {

    public LatencyBreakdown {
        clientForward = clientForward.clone();
        uplink = uplink.clone();
        downlink = downlink.clone();
        clientBackward = clientBackward.clone();
        int n = clientForward.length;
        if (uplink.length != n || downlink.length != n || clientBackward.length != n) {
            throw new IllegalArgumentException("per-device terms need one entry per device (" + n + ")");
        }
    }

    /** Builds a breakdown and its total from the terms. */
    static LatencyBreakdown of(double[] clientForward, double[] uplink, double serverForward, double serverBackward,
                               double[] downlink, double[] clientBackward) {
        double total = phase(clientForward, uplink) + serverForward + serverBackward + phase(downlink, clientBackward);
        return new LatencyBreakdown(clientForward, uplink, serverForward, serverBackward, downlink, clientBackward,
                total);
    }

    private static double phase(double[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, a[i] + b[i]);
        }
        return max;
    }

    /** max_i(clientForward_i + uplink_i): when the edge has every device's activations. */
    public double uplinkPhase() {
        return phase(clientForward, uplink);
    }

    /** max_i(downlink_i + clientBackward_i): from the edge's answer to the last device's finished step. */
    public double downlinkPhase() {
        return phase(downlink, clientBackward);
    }

    /** The device whose forward and upload take longest (the first of equals). */
    public int uplinkBottleneck() {
        return argMax(clientForward, uplink);
    }

    /** The device whose download and backward take longest (the first of equals). */
    public int downlinkBottleneck() {
        return argMax(downlink, clientBackward);
    }

    private static int argMax(double[] a, double[] b) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] + b[i] > a[best] + b[best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public double[] clientForward() {
        return clientForward.clone();
    }

    @Override
    public double[] uplink() {
        return uplink.clone();
    }

    @Override
    public double[] downlink() {
        return downlink.clone();
    }

    @Override
    public double[] clientBackward() {
        return clientBackward.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatencyBreakdown b && Arrays.equals(clientForward, b.clientForward)
                && Arrays.equals(uplink, b.uplink) && serverForward == b.serverForward
                && serverBackward == b.serverBackward && Arrays.equals(downlink, b.downlink)
                && Arrays.equals(clientBackward, b.clientBackward) && total == b.total;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new double[] {serverForward, serverBackward, total}) * 31 + Arrays.hashCode(uplink);
    }

    @Override
    public String toString() {
        return String.format("T=%.4gs [up phase %.4gs (fwd %s, up %s), server fwd %.4gs, bwd %.4gs, down phase %.4gs"
                + " (down %s, bwd %s)]", total, uplinkPhase(), seconds(clientForward), seconds(uplink), serverForward,
                serverBackward, downlinkPhase(), seconds(downlink), seconds(clientBackward));
    }

    private static String seconds(double[] v) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            s.append(i == 0 ? "" : ", ").append(String.format("%.3g", v[i]));
        }
        return s.append(']').toString();
    }
}
