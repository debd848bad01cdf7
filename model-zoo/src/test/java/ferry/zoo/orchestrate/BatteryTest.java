package ferry.zoo.orchestrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Draining and charging batteries, and a round applied to a fleet. */
class BatteryTest {
    static FleetDevice device(String id, double battery) {
        return new FleetDevice(id, 1e9, 1e7, battery, 100, 10);
    }

    @Test
    void aRoundItCanPayForLeavesTheRest() {
        Battery.Drain d = Battery.drain(device("a", 60), 25);
        assertTrue(d.finished());
        assertTrue(d.alive());
        assertEquals(35, d.device().batteryJoules());
        assertEquals(1, d.fractionDone());
    }

    @Test
    void runningOutMidRoundStopsTheDeviceAtZero() {
        Battery.Drain d = Battery.drain(device("a", 10), 40);
        assertFalse(d.finished());
        assertFalse(d.alive());
        assertEquals(0, d.device().batteryJoules());
        assertEquals(0.25, d.fractionDone());
    }

    @Test
    void spendingExactlyWhatIsLeftFinishesTheRoundButTheDeviceIsOff() {
        Battery.Drain d = Battery.drain(device("a", 10), 10);
        assertTrue(d.finished());
        assertFalse(d.alive());
    }

    @Test
    void chargingStopsAtTheCapacity() {
        assertEquals(70, Battery.charge(device("a", 50), 20).batteryJoules());
        assertEquals(100, Battery.charge(device("a", 90), 20).batteryJoules());
        assertThrows(IllegalArgumentException.class, () -> Battery.charge(device("a", 90), -1));
        assertThrows(IllegalArgumentException.class, () -> Battery.drain(device("a", 90), Double.NaN));
    }

    @Test
    void aRoundAppliedToAFleetDropsTheDevicesThatRanOut() {
        List<FleetDevice> fleet = List.of(device("a", 50), device("b", 5), device("c", 0), device("d", 30));
        RoundPlan plan = new RoundPlan(Policy.BATTERY_BLIND, List.of(
                new Assignment("a", true, "e", 0, Mode.LOCAL, 1, 20, "local"),
                new Assignment("b", true, "e", 2, Mode.OFFLOAD, 1, 8, "offload"),
                Assignment.excluded("c", "out"),
                new Assignment("d", true, "e", 0, Mode.LOCAL, 1, 20, "local")));
        // d spends more than predicted; a and b what the plan says.
        Battery.Round r = Battery.apply(fleet, plan, Map.of("d", 31.0));
        assertEquals(List.of("a"), r.finished());
        assertEquals(List.of("b", "c", "d"), r.lost());
        assertEquals(1, r.fleet().size());
        assertEquals(30, r.fleet().get(0).batteryJoules());
        assertThrows(IllegalArgumentException.class,
                () -> Battery.apply(List.of(device("x", 1)), plan, Map.of()), "x is not in the plan");
    }
}
