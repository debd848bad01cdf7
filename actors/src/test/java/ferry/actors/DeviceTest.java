package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.Algorithms;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.SessionSpec;
import ferry.persistence.ModelRef;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceTest {
    @TempDir
    Path tmp;
    EntityTestSupport support;
    ActorTestKit kit;
    EventSourcedBehaviorTestKit<Device.Command, Device.Event, Device.State> device;
    DataPartition part = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 4, 1, 9, 400);

    @BeforeEach
    void start() {
        support = new EntityTestSupport(tmp);
        kit = ActorTestKit.create(support.config);
        device = EventSourcedBehaviorTestKit.create(kit.system(), Device.create("dev-1", support.services));
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
        support.close();
    }

    @Test
    void registersIdempotentlyAndRecovers() {
        var r = device.<StatusReply<Done>>runCommand(x -> new Device.Register(DeviceProfile.DEFAULT, part, x));
        assertTrue(r.reply().isSuccess());
        assertEquals(new Device.Registered(DeviceProfile.DEFAULT, part, null), r.event());
        var again = device.<StatusReply<Done>>runCommand(x -> new Device.Register(DeviceProfile.DEFAULT, part, x));
        assertTrue(again.hasNoEvents());
        Device.State s = device.restart().state();
        assertEquals(part, s.data());
        assertNull(s.edgeId());
    }

    @Test
    void refusesRoundsItCannotRun() {
        SessionSpec spec = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 1, 4,
                20, 1, 0.01f, 1, 0, 60);
        ModelRef global = new ModelRef("a".repeat(64), 1);
        TestProbe<DeviceResult> probe = kit.createTestProbe();
        device.runCommand(new Device.TrainRound(Algorithms.SPLITFED.instruct("s", spec, "d", 1, 1, global),
                probe.ref()));
        assertTrue(probe.receiveMessage().error().contains("not registered"));
        device.<StatusReply<Done>>runCommand(x -> new Device.Register(DeviceProfile.DEFAULT, part, x));
        device.runCommand(new Device.TrainRound(Algorithms.SPLITFED.instruct("s", spec, "d", 1, 1, global),
                probe.ref()));
        assertTrue(probe.receiveMessage().error().contains("attached to no edge"));
        // FedAvg needs no edge, but an unknown model ref is refused with a message, and nothing crashes
        device.runCommand(new Device.TrainRound(Algorithms.FEDAVG.instruct("s", spec, "d", 1, 1, global), probe.ref()));
        DeviceResult r = probe.receiveMessage();
        assertFalse(r.ok());
        assertTrue(r.error().contains("cannot start round 1"), r.error());
    }

    @Test
    void trainsALocalFedAvgRoundOnItsOwnPartition() {
        device.<StatusReply<Done>>runCommand(x -> new Device.Register(DeviceProfile.DEFAULT, part, x));
        SessionSpec spec = new SessionSpec("fedavg", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 1, 4,
                20, 1, 0.01f, 1, 0, 60);
        List<NamedTensor> start;
        ModelRef global;
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), 1, SgdConfig.DEFAULT)) {
            start = m.weights();
            global = ModelBlobs.putWeights(support.services.blobs(), start);
        }
        TestProbe<DeviceResult> probe = kit.createTestProbe();
        device.runCommand(new Device.TrainRound(Algorithms.FEDAVG.instruct("s", spec, "d", 1, 1, global), probe.ref()));
        DeviceResult r = probe.receiveMessage(Duration.ofSeconds(60));
        assertTrue(r.ok(), r.error());
        assertEquals(100, r.samples(), "a quarter of the 400-sample pool");
        assertEquals(1, r.parts().size());
        assertEquals(0, r.bytesUp(), "local training sends no activations");
        assertTrue(r.loss() > 0 && r.loss() < 10);
        List<NamedTensor> trained = ModelBlobs.getWeights(support.services.blobs(), r.parts().get(0));
        assertEquals(start.size(), trained.size());
        assertTrue(trained.get(0).tensor().maxAbsDiff(start.get(0).tensor()) > 0);
    }
}
