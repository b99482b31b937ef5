package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.HookSecrets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetResolverTest {

    private static final HookSecrets HOOK_SECRETS = HookSecrets.derivedFrom(WebhookSignerTest.newSecret());
    private static final String HOOK_SECRET = HOOK_SECRETS.of("acc-1");
    private static final WebhookConfig WEBHOOK = new WebhookConfig("wh-1", "acc-1", "https://customer.test/webhook",
            "test", "whsec_AAAA", true, Instant.now());

    private final TargetResolver resolver = new TargetResolver(HOOK_SECRETS);

    @Test
    void aStatusEventGoesToTheWebhookAndTheNotifyUrlButNotTheActionHook() {
        CallEvent event = status(command(new Hook("https://customer.test/notify", "get"),
                new Hook("https://customer.test/action", null)));

        assertThat(resolver.resolve(event, WEBHOOK))
                .extracting(Target::kind, Target::id, Target::url, Target::method, Target::secret)
                .containsExactly(
                        tuple(Target.Kind.WEBHOOK, "wh-1", "https://customer.test/webhook", "POST", "whsec_AAAA"),
                        tuple(Target.Kind.NOTIFY, "notify", "https://customer.test/notify", "GET", HOOK_SECRET));
    }

    @Test
    void theFinalEventAlsoGoesToTheActionHook() {
        CallEvent event = finalEvent(command(new Hook("https://customer.test/notify", null),
                new Hook("https://customer.test/action", null)));

        assertThat(resolver.resolve(event, WEBHOOK)).extracting(Target::kind)
                .containsExactly(Target.Kind.WEBHOOK, Target.Kind.NOTIFY, Target.Kind.ACTION);
    }

    @Test
    void aNotifyUrlEqualToTheWebhooksUrlIsSentOnceAsTheWebhook() {
        CallEvent event = finalEvent(command(new Hook("https://customer.test/webhook", null),
                new Hook("https://customer.test/webhook", null)));

        assertThat(resolver.resolve(event, WEBHOOK)).singleElement()
                .satisfies(target -> assertThat(target.kind()).isEqualTo(Target.Kind.WEBHOOK));
    }

    @Test
    void hooksStillGoOutWithoutAUsableWebhook() {
        CallEvent event = finalEvent(command(null, new Hook("https://customer.test/action", "POST")));

        assertThat(resolver.resolve(event, null)).extracting(Target::kind).containsExactly(Target.Kind.ACTION);
    }

    @Test
    void eachAccountsHooksAreSignedWithThatAccountsOwnSecret() {
        Hook notify = new Hook("https://customer.test/notify", null);
        Hook action = new Hook("https://customer.test/action", null);
        CallEvent own = finalEvent(command("acc-1", notify, action));
        CallEvent other = finalEvent(command("acc-2", notify, action));

        assertThat(resolver.resolve(own, null)).extracting(Target::secret)
                .containsExactly(HOOK_SECRETS.of("acc-1"), HOOK_SECRETS.of("acc-1"));
        assertThat(resolver.resolve(other, null)).extracting(Target::secret)
                .containsExactly(HOOK_SECRETS.of("acc-2"), HOOK_SECRETS.of("acc-2"));
        assertThat(HOOK_SECRETS.of("acc-1")).isNotEqualTo(HOOK_SECRETS.of("acc-2"));
    }

    @Test
    void withoutAHookSecretHooksAreUnsignedButWebhooksStaySigned() {
        CallEvent event = status(command(new Hook("https://customer.test/notify", null), null));

        assertThat(new TargetResolver(null).resolve(event, WEBHOOK)).extracting(Target::secret)
                .containsExactly("whsec_AAAA", null);
    }

    @Test
    void aWebhookThatWouldBeRefusedNeverTakesAUrlFromOneThatReceives() {
        // The call names a webhook since disabled; its replacement, at the same URL, is subscribed. Another
        // account's webhook (as a producer writing to Kafka could name one) is refused like a disabled one.
        WebhookConfig disabled = new WebhookConfig("wh-1", "acc-1", "https://customer.test/webhook", "old",
                "whsec_AAAA", false, Instant.now());
        WebhookConfig replacement = new WebhookConfig("wh-2", "acc-1", "https://customer.test/webhook", "new",
                "whsec_BBBB", true, Instant.now());
        WebhookConfig foreign = new WebhookConfig("wh-3", "acc-2", "https://customer.test/alone", "theirs",
                "whsec_CCCC", true, Instant.now());
        CallEvent event = status(command(null, null));

        assertThat(resolver.resolve(event, disabled, List.of(replacement, foreign)))
                .extracting(Target::kind, Target::id, Target::url)
                .containsExactly(tuple(Target.Kind.SUBSCRIPTION, "wh-2", "https://customer.test/webhook"),
                        // Alone at its URL it is still a target: its refusal is the delivery's to record.
                        tuple(Target.Kind.SUBSCRIPTION, "wh-3", "https://customer.test/alone"));
        assertThat(resolver.resolve(event, disabled, List.of()))
                .extracting(Target::id).containsExactly("wh-1");
    }

    @Test
    void aWebhookDisabledForItsEndpointsHealthNeverTakesAUrlFromAHookThatReceives() {
        // Disabled here after its endpoint answered 410; its configuration still says enabled until api-service hears.
        TargetResolver resolver = new TargetResolver(HOOK_SECRETS, webhook -> webhook.id().equals("wh-1"));
        CallEvent event = status(command(new Hook("https://customer.test/webhook", null), null));

        assertThat(resolver.resolve(event, WEBHOOK)).extracting(Target::kind, Target::url)
                .containsExactly(tuple(Target.Kind.NOTIFY, "https://customer.test/webhook"));
        assertThat(resolver.resolve(status(command(null, null)), WEBHOOK))
                .as("alone at its URL it is still a target: its refusal is the delivery's to record")
                .extracting(Target::id).containsExactly("wh-1");
    }

    @Test
    void anEventWithoutWebhookOrHooksHasNoTarget() {
        assertThat(resolver.resolve(status(command(null, null)), null)).isEmpty();
    }

    @Test
    void aDetectionAlsoGoesToTheAmdHookSignedWithTheAccountsHookSecret() {
        CallEvent event = detection(amdCommand(new Hook("https://customer.test/notify", null),
                new Hook("https://customer.test/amd", "get")), "machine");

        assertThat(resolver.resolve(event, WEBHOOK))
                .extracting(Target::kind, Target::id, Target::url, Target::method, Target::secret)
                .containsExactly(
                        tuple(Target.Kind.WEBHOOK, "wh-1", "https://customer.test/webhook", "POST", "whsec_AAAA"),
                        tuple(Target.Kind.NOTIFY, "notify", "https://customer.test/notify", "POST", HOOK_SECRET),
                        tuple(Target.Kind.AMD, "amd", "https://customer.test/amd", "GET", HOOK_SECRET));
        assertThat(Target.Kind.AMD.wire()).isEqualTo("amd_hook");
    }

    @Test
    void eventsThatCarryNoDetectionNeverGoToTheAmdHook() {
        CallCommand command = amdCommand(null, new Hook("https://customer.test/amd", null));
        // The attempt's end and the request's final carry the stored result, but report the end, not a detection.
        List<CallEvent> others = List.of(
                status(command),
                CallEvent.about(command).sequence(2).status(AttemptStatus.IN_PROGRESS).previousStatus("ringing")
                        .build(),
                CallEvent.about(command).sequence(3).status(AttemptStatus.IN_PROGRESS).previousStatus("in-progress")
                        .build(),
                CallEvent.about(command).sequence(4).status(AttemptStatus.COMPLETED).previousStatus("in-progress")
                        .answeredBy("human").build(),
                CallEvent.about(command).sequence(5).type(EventType.FINAL).status(FinalStatus.ANSWERED)
                        .previousStatus("answered").answeredBy("human").build(),
                CallEvent.about(command).sequence(6).type(EventType.CANCEL_REJECTED).status(FinalStatus.ANSWERED)
                        .previousStatus("answered").answeredBy("human").build());

        assertThat(others).allSatisfy(event -> assertThat(resolver.resolve(event, WEBHOOK)).extracting(Target::kind)
                .as(event.status() + " " + event.eventType()).containsExactly(Target.Kind.WEBHOOK));
    }

    @Test
    void anAmdHookEqualToTheNotifyUrlGetsADetectionOnceAsTheNotifyUrl() {
        Hook same = new Hook("https://customer.test/hook", null);
        CallEvent event = detection(amdCommand(same, same), "human");

        assertThat(resolver.resolve(event, null)).singleElement()
                .satisfies(target -> assertThat(target.kind()).isEqualTo(Target.Kind.NOTIFY));
    }

    @Test
    void aDetectionOfARequestWithoutAnAmdHookGoesWhereItWentBefore() {
        CallEvent event = detection(command(new Hook("https://customer.test/notify", null),
                new Hook("https://customer.test/action", null)), "machine");

        assertThat(resolver.resolve(event, WEBHOOK)).extracting(Target::kind)
                .containsExactly(Target.Kind.WEBHOOK, Target.Kind.NOTIFY);
    }

    private static CallEvent status(CallCommand command) {
        return CallEvent.about(command).sequence(1).status(AttemptStatus.RINGING).build();
    }

    private static CallEvent finalEvent(CallCommand command) {
        return CallEvent.about(command).sequence(2).type(EventType.FINAL).status(FinalStatus.ANSWERED).build();
    }

    /** The {@code call.status} the dispatcher publishes for a detection: the status unchanged, with who answered. */
    private static CallEvent detection(CallCommand command, String answeredBy) {
        return CallEvent.about(command).sequence(2).status(AttemptStatus.IN_PROGRESS).previousStatus("in-progress")
                .answeredBy(answeredBy).build();
    }

    private static CallCommand command(Hook notify, Hook action) {
        return command("acc-1", notify, action);
    }

    private static CallCommand command(String account, Hook notify, Hook action) {
        return new CallCommand(CallCommand.VERSION, "req-1", account, "+14155550100", "+919876543210", "23", null,
                "test", 0, 0, 1, "wh-1", null, Map.of(), null, null, notify, action, null, Instant.now());
    }

    private static CallCommand amdCommand(Hook notify, Hook amd) {
        return new CallCommand(CallCommand.VERSION, "req-1", "acc-1", "+14155550100", "+919876543210", "23", null,
                "test", 0, 0, 1, "wh-1", null, Map.of(), null, null, notify, null, amd, null, Instant.now());
    }
}
