package dev.dialer.api.settings;

import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonBodies;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.AccountSettings.CampaignWindow;
import dev.dialer.common.phone.PhoneNumbers;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a {@code PUT /api/v2/account/settings} body into the {@link AccountSettings} contract. The body replaces the
 * settings whole: a field left out takes its default. Every invalid field is reported, each by name.
 */
final class SettingsRequest {

    static final int MAX_CALLER_IDS = 1000;
    static final int MAX_CAMPAIGN_WINDOWS = 100;
    static final double MAX_CPS = 10_000;
    static final int MAX_CAMPAIGN_LENGTH = 128;
    static final int MAX_DAILY_CAP = 10_000;
    static final int MAX_FLOW_IDS = 1000;
    /** As long as a send's {@code flow_id} may be. */
    static final int MAX_FLOW_ID_LENGTH = 128;
    private static final Set<String> REGIONS = PhoneNumberUtil.getInstance().getSupportedRegions();
    private static final Set<String> FIELDS = Set.of("default_region", "calling_window", "campaign_windows",
            "cps_per_caller_id", "allowed_caller_ids", "per_callee_daily_cap", "allowed_flow_ids");
    /**
     * Fields of the {@code GET} answer that are not settings: accepted and ignored, so that the answer can be sent
     * back changed ({@code account_id} only when it names the caller's own account).
     */
    private static final Set<String> READ_ONLY = Set.of("account_id", "updated_at");
    /** The members of {@code calling_window}, and of each of {@code campaign_windows}. */
    private static final Set<String> WINDOW = Set.of("start", "end");
    private static final Set<String> CAMPAIGN_WINDOW = Set.of("campaign", "start", "end");

    private SettingsRequest() {
    }

    /**
     * @param accountRegion the region numbers are read in when the body names none
     */
    static AccountSettings parse(String body, String accountId, String accountRegion, Instant now) {
        ObjectNode fields = JsonBodies.object(body, "The body is empty; send the settings as a JSON object.");
        List<FieldProblem> errors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : fields.properties()) {
            if (field.getKey().equals("account_id") && !(field.getValue().isString()
                    && field.getValue().asString().equals(accountId))) {
                errors.add(new FieldProblem("account_id", "is read-only; leave it out or send this account's id"));
            } else if (!FIELDS.contains(field.getKey()) && !READ_ONLY.contains(field.getKey())) {
                errors.add(new FieldProblem(field.getKey(), "is not a setting (known: " + String.join(", ",
                        FIELDS.stream().sorted().toList()) + ")"));
            }
        }
        String region = region(fields.get("default_region"), errors);
        CallingWindow window = window(fields.get("calling_window"), "calling_window", WINDOW, errors);
        List<CampaignWindow> campaignWindows = campaignWindows(fields.get("campaign_windows"), errors);
        Double cps = cps(fields.get("cps_per_caller_id"), errors);
        List<String> callerIds = callerIds(fields.get("allowed_caller_ids"), region == null ? accountRegion : region,
                errors);
        Integer cap = cap(fields.get("per_callee_daily_cap"), errors);
        List<String> flows = flows(fields.get("allowed_flow_ids"), errors);
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new AccountSettings(AccountSettings.VERSION, accountId, region, window, campaignWindows, cps, callerIds,
                cap, now, flows);
    }

    private static String region(JsonNode node, List<FieldProblem> errors) {
        if (absent(node)) {
            return null;
        }
        String region = node.isString() ? node.asString().strip() : "";
        if (!REGIONS.contains(region)) {
            errors.add(new FieldProblem("default_region",
                    "must be an ISO 3166-1 alpha-2 region with a numbering plan, e.g. IN or US"));
            return null;
        }
        return region;
    }

    /**
     * A window of the members {@code members}; another member (a {@code tz}, say: a window runs in the callee's local
     * time) is a 400 naming it rather than dropped, as an unknown setting is.
     */
    private static CallingWindow window(JsonNode node, String field, Set<String> members,
                                        List<FieldProblem> errors) {
        if (absent(node)) {
            return null;
        }
        if (!node.isObject()) {
            errors.add(new FieldProblem(field, "must be an object {start, end} of local times HH:mm"));
            return null;
        }
        JsonMembers.refuseUnknown(node, members, field + ".", "is not a member of a window (known: "
                + String.join(", ", members.stream().sorted().toList()) + "); a window is in the callee's local time",
                errors);
        LocalTime start = time(node.get("start"), field + ".start", errors);
        LocalTime end = time(node.get("end"), field + ".end", errors);
        return start == null || end == null ? null : new CallingWindow(start, end);
    }

    private static LocalTime time(JsonNode node, String field, List<FieldProblem> errors) {
        String text = node != null && node.isString() ? node.asString().strip() : "";
        if (text.matches("[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?")) {
            try {
                return LocalTime.parse(text);
            } catch (DateTimeParseException e) {
                // reported below
            }
        }
        errors.add(new FieldProblem(field, "must be a local time HH:mm from 00:00 to 23:59"));
        return null;
    }

    private static List<CampaignWindow> campaignWindows(JsonNode node, List<FieldProblem> errors) {
        if (absent(node)) {
            return List.of();
        }
        if (!node.isArray() || node.size() > MAX_CAMPAIGN_WINDOWS) {
            errors.add(new FieldProblem("campaign_windows",
                    "must be an array of at most " + MAX_CAMPAIGN_WINDOWS + " {campaign, start, end}"));
            return List.of();
        }
        List<CampaignWindow> windows = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String field = "campaign_windows[" + i + "]";
            JsonNode entry = node.get(i);
            String campaign = entry.isObject() && entry.get("campaign") != null && entry.get("campaign").isString()
                    ? entry.get("campaign").asString().strip() : "";
            if (campaign.isEmpty() || Characters.moreThan(campaign, MAX_CAMPAIGN_LENGTH)) {
                errors.add(new FieldProblem(field + ".campaign",
                        "must be a campaign name of 1 to " + MAX_CAMPAIGN_LENGTH + " characters"));
            } else if (!seen.add(campaign)) {
                errors.add(new FieldProblem(field + ".campaign", "is given twice"));
            }
            CallingWindow window = window(entry, field, CAMPAIGN_WINDOW, errors);
            if (window != null && !campaign.isEmpty()) {
                windows.add(new CampaignWindow(campaign, window));
            }
        }
        return windows;
    }

    private static Double cps(JsonNode node, List<FieldProblem> errors) {
        if (absent(node)) {
            return null;
        }
        if (!node.isNumber() || !(node.asDouble() > 0) || node.asDouble() > MAX_CPS) {
            errors.add(new FieldProblem("cps_per_caller_id", "must be a number above 0 and at most " + (int) MAX_CPS));
            return null;
        }
        return node.asDouble();
    }

    private static List<String> callerIds(JsonNode node, String region, List<FieldProblem> errors) {
        return distinct(node, "allowed_caller_ids", MAX_CALLER_IDS, "numbers", (entry, field) -> {
            String raw = entry.isString() || entry.isNumber() ? entry.asString().strip() : "";
            PhoneNumbers.Result result = PhoneNumbers.normalize(raw, region);
            if (result.valid()) {
                return result.e164();
            }
            errors.add(new FieldProblem(field, raw.isEmpty() ? "must be a phone number" : result.error()));
            return null;
        }, errors);
    }

    /** Flow ids as sends give them ({@code flow_id}, the Voice Gateway's {@code application_sid}), each once. */
    private static List<String> flows(JsonNode node, List<FieldProblem> errors) {
        return distinct(node, "allowed_flow_ids", MAX_FLOW_IDS, "flow ids", (entry, field) -> {
            String flow = entry.isString() || entry.isIntegralNumber() ? entry.asString().strip() : "";
            if (flow.isEmpty() || Characters.moreThan(flow, MAX_FLOW_ID_LENGTH)) {
                errors.add(new FieldProblem(field, "must be a flow id of 1 to " + MAX_FLOW_ID_LENGTH + " characters"));
                return null;
            }
            return flow;
        }, errors);
    }

    /**
     * A list setting: an array of at most {@code max} entries, each read by {@code entry} (null for one it refused
     * and reported, naming {@code field[i]}), each value kept once, in order.
     */
    private static List<String> distinct(JsonNode node, String field, int max, String what,
                                         BiFunction<JsonNode, String, String> entry, List<FieldProblem> errors) {
        if (absent(node)) {
            return List.of();
        }
        if (!node.isArray() || node.size() > max) {
            errors.add(new FieldProblem(field, "must be an array of at most " + max + " " + what));
            return List.of();
        }
        Set<String> values = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String value = entry.apply(node.get(i), field + "[" + i + "]");
            if (value != null) {
                values.add(value);
            }
        }
        return List.copyOf(values);
    }

    private static Integer cap(JsonNode node, List<FieldProblem> errors) {
        if (absent(node)) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1 || node.asInt() > MAX_DAILY_CAP) {
            errors.add(new FieldProblem("per_callee_daily_cap", "must be a whole number from 1 to " + MAX_DAILY_CAP));
            return null;
        }
        return node.asInt();
    }

    private static boolean absent(JsonNode node) {
        return node == null || node.isNull();
    }
}
