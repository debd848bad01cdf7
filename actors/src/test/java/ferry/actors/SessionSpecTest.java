package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.device.DataPartition;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.Algorithms;
import ferry.actors.session.SessionSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A session or a partition with a spec it cannot run is refused when made, with a message that says why. */
class SessionSpecTest {
    static final String FM = DatasetRegistry.FASHION_MNIST;

    static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void badSessionSpecsAreRefused() {
        List<String> d = List.of("a", "b");
        assertTrue(error(() -> new SessionSpec("epsl9", "vgg5", FM, d, 1, 4, 50, 1, 0.01f, 1, 0, 60))
                .contains("unknown algorithm"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg7", FM, d, 1, 4, 50, 1, 0.01f, 1, 0, 60))
                .contains("unknown model"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", "mnist-ish", d, 1, 4, 50, 1, 0.01f, 1, 0, 60))
                .contains("unknown dataset"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", FM, d, 1, 9, 50, 1, 0.01f, 1, 0, 60))
                .contains("cut 9"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", FM, List.of("a", "a"), 1, 4, 50, 1, 0.01f, 1, 0,
                60)).contains("only once"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", FM, List.of(), 1, 4, 50, 1, 0.01f, 1, 0, 60))
                .contains("at least one device"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", FM, d, 0, 4, 50, 1, 0.01f, 1, 0, 60))
                .contains("rounds"));
        assertTrue(error(() -> new SessionSpec("splitfed", "vgg5", FM, d, 1, 4, 50, 1, Float.NaN, 1, 0, 60))
                .contains("learning rate"));
        assertTrue(error(() -> new SessionSpec("epsl", "vgg5", FM, d, 1, 4, 50, 1, 0.01f, 1, 0, 60,
                ferry.actors.session.MigrationMode.FEDFLY, List.of(), 1.5)).contains("phi"));
        assertEquals(List.of("auto", "epsl", "fedavg", "psl", "sl", "splitfed"), Algorithms.names());
    }

    @Test
    void badPartitionsAreRefused() {
        assertTrue(error(() -> DataPartition.iid(FM, 4, 4, 1, 0)).contains("0..3"));
        assertTrue(error(() -> new DataPartition(FM, "zipf", 2, 0, 0, 1, 0)).contains("iid or dirichlet"));
        assertTrue(error(() -> new DataPartition(FM, "dirichlet", 2, 0, 0, 1, 0)).contains("alpha"));
        assertTrue(error(() -> DataPartition.iid(FM, 2, 0, 1, -5)).contains("pool size"));
    }
}
