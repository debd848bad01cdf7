package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.edge.EdgeServer;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EdgeServerTest {
    static final ActorTestKit KIT = ActorTestKit.create(
            com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local")
                    .withFallback(EventSourcedBehaviorTestKit.config())
                    .withFallback(ferry.persistence.FerryConfig.load(ferry.persistence.FerryConfig.Journal.H2)));
    EventSourcedBehaviorTestKit<EdgeServer.Command, EdgeServer.Event, EdgeServer.State> edge;

    @BeforeEach
    void fresh() {
        edge = EventSourcedBehaviorTestKit.create(KIT.system(), EdgeServer.create("edge-1"));
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void takesDevicesUpToItsCapacity() {
        var reg = edge.<StatusReply<Done>>runCommand(r -> new EdgeServer.Register("10.0.0.1", 2, r));
        assertTrue(reg.reply().isSuccess());
        assertEquals(new EdgeServer.Registered("10.0.0.1", 2, ""), reg.event());

        var a = edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d1", r));
        assertTrue(a.reply().accepted());
        assertEquals(new EdgeServer.DeviceAttached("d1"), a.event());
        var again = edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d1", r));
        assertTrue(again.reply().accepted());
        assertTrue(again.hasNoEvents(), "attaching twice is idempotent");
        assertTrue(edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d2", r)).reply().accepted());

        var full = edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d3", r));
        assertFalse(full.reply().accepted());
        assertTrue(full.reply().reason().contains("full"), full.reply().reason());
        assertTrue(full.hasNoEvents());
        assertEquals(List.of("d1", "d2"), full.state().devices());

        var detach = edge.<Done>runCommand(r -> new EdgeServer.Detach("d1", r));
        assertEquals(List.of("d2"), detach.state().devices());
        assertTrue(edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d3", r)).reply().accepted());
    }

    @Test
    void refusesDevicesBeforeRegistrationAndBadCapacities() {
        var a = edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d1", r));
        assertFalse(a.reply().accepted());
        assertTrue(a.reply().reason().contains("not registered"), a.reply().reason());
        var bad = edge.<StatusReply<Done>>runCommand(r -> new EdgeServer.Register("h", 0, r));
        assertTrue(bad.reply().isError());
        assertTrue(bad.reply().getError().getMessage().contains("capacity"));
        assertTrue(bad.hasNoEvents());
    }

    @Test
    void stateSurvivesRestartAndRegistrationIsIdempotent() {
        edge.<StatusReply<Done>>runCommand(r -> new EdgeServer.Register("h", 3, r));
        edge.<EdgeServer.AttachReply>runCommand(r -> new EdgeServer.Attach("d1", r));
        var again = edge.<StatusReply<Done>>runCommand(r -> new EdgeServer.Register("h", 3, r));
        assertTrue(again.hasNoEvents());
        EdgeServer.State restarted = edge.restart().state();
        assertEquals(List.of("d1"), restarted.devices());
        assertEquals(3, restarted.capacity());
        var shrink = edge.<StatusReply<Done>>runCommand(r -> new EdgeServer.Register("h", 0, r));
        assertTrue(shrink.reply().isError());
    }
}
