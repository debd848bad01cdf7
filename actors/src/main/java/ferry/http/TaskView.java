package ferry.http;

import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionPlan;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import java.util.List;

/** A task's progress and result as the HTTP API shows it. */
public record TaskView(String taskId, String status, int round, int rounds, double lastTestAccuracy,
                       String failure, SessionSpec spec, SessionPlan plan,
                       List<TrainingSession.RoundPlanned> roundPlans, List<RoundMetrics> history) {
    static TaskView of(TrainingSession.State s) {
        double acc = s.history().isEmpty() ? 0 : s.history().get(s.history().size() - 1).testAccuracy();
        return new TaskView(s.sessionId(), s.status().name(), s.round(), s.spec().rounds(), acc, s.failure(),
                s.spec(), s.plan(), s.roundPlans(), s.history());
    }
}
