package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.Faults;
import ferry.actors.node.FerryNode;
import ferry.actors.device.DeviceProfile;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.Planning;
import ferry.actors.session.SessionPlan;
import ferry.ops.Asks;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.pattern.StatusReply;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parallel split learning in the cluster: each edge's round master trains one shared server half on all its
 * devices' activations at once (PSL, and EPSL with last-layer aggregation).
 */
class ParallelSessionTest {
    @TempDir
    static Path tmp;
    static TestBackend backend;
    static FerryNode node;
    static final Faults FAULTS = new Faults();

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.open(Journal.H2, tmp);
        node = FerryNode.start("par", ConfigFactory.parseString("ferry.round-master.step-timeout = 1s")
                .withFallback(SessionIntegrationTest.nodeConfig(backend)), EntityTestSupport.DATASETS, FAULTS);
        // dev-1 and dev-3 on edge-1, dev-2 on edge-2; 400 samples each
        SessionIntegrationTest.setUp(node, 3, 400);
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
        backend.close();
    }

    static SessionSpec spec(String algorithm, List<String> devices, int rounds, double phi, int timeout) {
        return new SessionSpec(algorithm, "vgg5", DatasetRegistry.FASHION_MNIST, devices, rounds, 4, 20, 1, 0.05f,
                1, 1000, timeout, MigrationMode.FEDFLY, List.of(), phi);
    }

    @Test
    void withOneDevicePerEdgePslIsExactlySplitFed() throws Exception {
        List<String> one = List.of("dev-1", "dev-2"); // one on each edge
        // one after the other: a device trains for one session at a time
        SessionIntegrationTest.create(node, "sf", spec("splitfed", one, 1, 0, 120));
        TrainingSession.State sf = SessionIntegrationTest.awaitEnd(node, "sf");
        SessionIntegrationTest.create(node, "psl", spec("psl", one, 1, 0, 120));
        TrainingSession.State psl = SessionIntegrationTest.awaitEnd(node, "psl");
        assertEquals(1, sf.history().get(0).attempt());
        assertEquals(1, psl.history().get(0).attempt());
        assertEquals(TrainingSession.Status.FINISHED, psl.status(), psl.failure());
        assertEquals(sf.global(), psl.global(), "a shared server half with one client is a private one");
    }

    @Test
    void epslTrainsDevicesInParallelOnASharedServerHalf() throws Exception {
        List<String> all = new ArrayList<>(List.of("dev-1", "dev-2", "dev-3"));
        SessionIntegrationTest.create(node, "epsl", spec("epsl", all, 2, 1.0, 120));
        TrainingSession.State s = SessionIntegrationTest.awaitEnd(node, "epsl");
        assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
        RoundMetrics last = s.history().get(1);
        assertEquals(3, last.participants());
        assertTrue(last.testAccuracy() > 0.3, "learned: " + last.testAccuracy());
        assertTrue(last.trainLoss() < s.history().get(0).trainLoss() + 0.5);
    }

    @Test
    void theResourceManagerPlansTheCutAndTheSessionReportsPredictedBesideMeasured() throws Exception {
        List<String> two = List.of("dev-1", "dev-3"); // both on edge-1
        SessionSpec fixed = spec("psl", two, 1, 0, 120);
        SessionSpec optimised = new SessionSpec("epsl", "vgg5", DatasetRegistry.FASHION_MNIST, two, 1, 4, 20, 1,
                0.05f, 1, 1000, 120, MigrationMode.FEDFLY, List.of(), 0.5, Planning.OPTIMISED);
        SessionIntegrationTest.create(node, "planned-fixed", fixed);
        TrainingSession.State f = SessionIntegrationTest.awaitEnd(node, "planned-fixed");
        SessionIntegrationTest.create(node, "planned-opt", optimised);
        TrainingSession.State o = SessionIntegrationTest.awaitEnd(node, "planned-opt");
        assertEquals(TrainingSession.Status.FINISHED, o.status(), o.failure());

        SessionPlan fp = f.plan();
        assertEquals(Planning.FIXED, fp.mode());
        assertEquals(4, fp.cut(), "a fixed plan keeps the spec's cut");
        assertEquals(fp.equalSplitStepSeconds(), fp.predictedStepSeconds(), 0);
        assertEquals(List.of("dev-1", "dev-3"), fp.edges().get(0).devices());
        assertEquals(16, fp.edges().get(0).subchannels().stream().mapToInt(Integer::intValue).sum());

        SessionPlan op = o.plan();
        assertEquals(Planning.OPTIMISED, op.mode());
        assertTrue(op.predictedStepSeconds() <= op.equalSplitStepSeconds(), op.reason());
        assertEquals(op.cut(), o.runSpec().cut(), "rounds run at the planned cut");
        assertTrue(op.reason().contains("cut " + op.cut()), op.reason());
        for (double p : op.edges().get(0).powerW()) {
            assertTrue(p > 0 && p <= DeviceProfile.DEFAULT_TX_POWER_W + 1e-12, "power within the limit: " + p);
        }
        RoundMetrics m = o.history().get(0);
        assertEquals(op.predictedStepSeconds(), m.predictedStepSeconds(), 0);
        // 400 samples in batches of 20: 20 steps
        assertEquals(20 * op.predictedStepSeconds(), m.predictedSeconds(), 1e-9);
        assertTrue(m.trainSeconds() > 0 && m.trainSeconds() <= m.seconds(), m.trainSeconds() + " / " + m.seconds());
        assertTrue(m.measuredStepSeconds() > 0);
    }

    @Test
    void aSessionWithAnUnregisteredDeviceCannotBePlanned() throws Exception {
        StatusReply<Done> r = Asks.<TrainingSession.Command, StatusReply<Done>>ask(
                node.services().session("unplannable"),
                x -> new TrainingSession.Create(spec("psl", List.of("dev-1", "nobody"), 1, 0, 60), x),
                Duration.ofSeconds(60), node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertTrue(r.isError());
        assertTrue(r.getError().getMessage().contains("cannot plan")
                && r.getError().getMessage().contains("'nobody' is not registered"), r.getError().getMessage());
        assertEquals(TrainingSession.Status.NEW, SessionIntegrationTest.get(node, "unplannable").status());
    }

    @Test
    void vanillaSplitLearningPassesTheModelFromDeviceToDevice() throws Exception {
        SessionIntegrationTest.create(node, "sl", spec("sl", List.of("dev-1", "dev-2"), 1, 0, 120));
        TrainingSession.State sl = SessionIntegrationTest.awaitEnd(node, "sl");
        SessionIntegrationTest.create(node, "sf2", spec("splitfed", List.of("dev-1"), 1, 0, 120));
        TrainingSession.State sf = SessionIntegrationTest.awaitEnd(node, "sf2");
        assertEquals(1, sl.history().get(0).attempt(), "no retry");
        assertEquals(TrainingSession.Status.FINISHED, sl.status(), sl.failure());
        assertEquals(2, sl.history().get(0).participants());
        assertTrue(sl.history().get(0).testAccuracy() > 0.3, "" + sl.history().get(0).testAccuracy());
        // dev-2 went on from dev-1's model, so the round's model is not dev-1's alone
        assertTrue(!sl.global().equals(sf.global()));
    }

    @Test
    void aSilentDeviceIsLeftOutAndDoesNotStallTheOthers() throws Exception {
        FAULTS.silenceDeviceFrom("dev-3", 3); // dev-3 shares edge-1 with dev-1
        try {
            long t0 = System.nanoTime();
            SessionIntegrationTest.create(node, "silent", spec("psl", List.of("dev-1", "dev-2", "dev-3"), 1, 0,
                    15));
            TrainingSession.State s = SessionIntegrationTest.awaitEnd(node, "silent");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
            RoundMetrics m = s.history().get(0);
            assertEquals(2, m.participants(), "dev-1 and dev-2 finished their round");
            assertTrue(m.failures().stream().anyMatch(f -> f.startsWith("dev-3")), m.failures().toString());
            assertTrue(seconds < 15 + 20, "the round ended at its timeout, not later: " + seconds + " s");
        } finally {
            FAULTS.speakAgain("dev-3");
        }
    }
}
