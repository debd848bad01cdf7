package ferry.zoo.orchestrate;

/**
 * An edge server as the round planner sees it. Every device that takes part in a round attaches to one edge: an
 * offloading device sends its activations there and the edge runs its server half; a device that trains locally
 * still downloads the global model and uploads its update through it.
 *
 * <p>Load: the edge's link is shared evenly by the devices attached to it (a device gets
 * {@code min(its own rate, linkBitsPerSecond / attached)}), and its FLOP/s evenly by the devices offloading to it.
 *
 * @param id                the edge's name, unique among the edges
 * @param flops             FLOP/s it gives to server halves, shared by the devices offloading to it
 * @param capacity          the most devices it admits in a round
 * @param linkBitsPerSecond its radio / access link, each way, shared by the devices attached to it
 */
public record EdgeSite(String id, double flops, int capacity, double linkBitsPerSecond) {

    public EdgeSite {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("an edge needs a non-blank id");
        }
        if (!(flops > 0) || !Double.isFinite(flops)) {
            throw new IllegalArgumentException("edge '" + id + "': FLOP/s must be positive and finite, got " + flops);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("edge '" + id + "': capacity must be at least one device, got "
                    + capacity);
        }
        if (!(linkBitsPerSecond > 0) || !Double.isFinite(linkBitsPerSecond)) {
            throw new IllegalArgumentException("edge '" + id + "': link rate must be positive and finite, got "
                    + linkBitsPerSecond + " bit/s");
        }
    }
}
