package ferry.ops;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;

/** Asks from outside the actors (jobs, benchmarks, tests), with the reply types spelled out once. */
public final class Asks {
    private Asks() {}

    /** Asks for a {@code StatusReply<Done>}; an error reply fails the stage with its message. */
    public static <C> CompletionStage<Done> ack(RecipientRef<C> to, Function<ActorRef<StatusReply<Done>>, C> make,
                                                Duration timeout, Scheduler scheduler) {
        return AskPattern.<C, Done>askWithStatus(to, make::apply, timeout, scheduler);
    }

    public static <C, R> CompletionStage<R> ask(RecipientRef<C> to, Function<ActorRef<R>, C> make,
                                                Duration timeout, Scheduler scheduler) {
        return AskPattern.<C, R>ask(to, make::apply, timeout, scheduler);
    }
}
