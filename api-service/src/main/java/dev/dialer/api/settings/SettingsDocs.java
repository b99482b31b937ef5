package dev.dialer.api.settings;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The account settings as the OpenAPI document describes them. The controller reads the body by hand
 * ({@link SettingsRequest}) and writes its answer as a map ({@link SettingsController#view}), so neither shape is
 * visible to the generator: these records only document them, with the parser's bounds.
 */
final class SettingsDocs {

    /** What {@link SettingsRequest} accepts for a local time: {@code HH:mm}, or {@code HH:mm:ss}. */
    private static final String LOCAL_TIME = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$";

    /** A realistic PUT body: every setting given. */
    static final String EXAMPLE = """
            {"default_region":"IN","calling_window":{"start":"09:30","end":"20:00"},\
            "campaign_windows":[{"campaign":"diwali_offer","start":"10:00","end":"21:00"}],"cps_per_caller_id":2.5,\
            "allowed_caller_ids":["08068281234","+918068281235"],"per_callee_daily_cap":3,\
            "allowed_flow_ids":["23","24"]}""";

    private SettingsDocs() {
    }

    /**
     * The PUT body. That {@code cps_per_caller_id} must be above 0 is said in words only: the annotation's exclusive
     * minimum is written only when positive, and a minimum of 0 would document 0 as accepted.
     */
    @Schema(name = "AccountSettingsRequest", additionalProperties = Schema.AdditionalPropertiesValue.FALSE,
            description = "Replaces the settings whole: a setting left out (or null) takes its default. A GET "
                    + "answer can be sent back changed: its `account_id` and `updated_at` are ignored. Another "
                    + "field is a 400 naming it")
    record Request(
            @JsonProperty("account_id") @Schema(description = "Ignored; when given, the caller's own account's id "
                    + "(another is a 400)", example = "acme") String accountId,
            @JsonProperty("updated_at") @Schema(description = "Ignored: the time of this change is stored",
                    format = "date-time") String updatedAt,
            @JsonProperty("default_region") @Schema(description = "ISO 3166-1 alpha-2 region with a numbering plan, "
                    + "in which numbers written without a country code are read (the account's own when absent)",
                    pattern = "^[A-Z]{2}$", example = "IN") String defaultRegion,
            @JsonProperty("calling_window") @Schema(description = "Local hours of the recipient in which calls may "
                    + "be placed (the deployment's default when absent, 09:00 to 21:00 unless configured)")
            Window callingWindow,
            @JsonProperty("campaign_windows") @ArraySchema(maxItems = SettingsRequest.MAX_CAMPAIGN_WINDOWS,
                    arraySchema = @Schema(description = "Windows that replace `calling_window` for a campaign, at "
                            + "most one per campaign (none when absent)")) List<CampaignWindow> campaignWindows,
            @JsonProperty("cps_per_caller_id") @Schema(description = "Calls per second allowed per caller ID, above "
                    + "0 (the dispatcher's default when absent)", maximum = "" + (int) SettingsRequest.MAX_CPS,
                    example = "2.5") Double cpsPerCallerId,
            @JsonProperty("allowed_caller_ids") @ArraySchema(maxItems = SettingsRequest.MAX_CALLER_IDS,
                    arraySchema = @Schema(description = "The caller IDs the account may send from, read in "
                            + "`default_region` and kept in E.164 (any when absent or empty)"),
                    schema = @Schema(example = "918068281234")) List<String> allowedCallerIds,
            @JsonProperty("per_callee_daily_cap") @Schema(description = "Most calls to one number in any 24 hours, "
                    + "across campaigns (no cap when absent)", minimum = "1",
                    maximum = "" + SettingsRequest.MAX_DAILY_CAP, example = "3")
            Integer perCalleeDailyCap,
            @JsonProperty("allowed_flow_ids") @ArraySchema(maxItems = SettingsRequest.MAX_FLOW_IDS,
                    arraySchema = @Schema(description = "The flows the account's calls may run: a send's `flow_id`, "
                            + "the Voice Gateway API's `application_sid` (any when absent or empty; a send with "
                            + "`audio` and no flow always may)"), schema = @Schema(minLength = 1,
                    maxLength = SettingsRequest.MAX_FLOW_ID_LENGTH, example = "23")) List<String> allowedFlowIds) {
    }

    /** The settings in force, as both GET and PUT answer them. */
    @Schema(name = "AccountSettings", description = "The settings in force; every field is always present",
            requiredProperties = {"account_id", "default_region", "calling_window", "campaign_windows",
                    "cps_per_caller_id", "allowed_caller_ids", "per_callee_daily_cap", "allowed_flow_ids",
                    "updated_at"})
    record View(
            @JsonProperty("account_id") @Schema(example = "acme") String accountId,
            @JsonProperty("default_region") @Schema(description = "The region numbers without a country code are "
                    + "read in", example = "IN") String defaultRegion,
            @JsonProperty("calling_window") @Schema(description = "The account's window, or the deployment's default "
                    + "(`dialer.api.preview.default-calling-window`) when it set none") Window callingWindow,
            @JsonProperty("campaign_windows") List<CampaignWindow> campaignWindows,
            @JsonProperty("cps_per_caller_id") @Schema(types = {"number", "null"}, description = "Null: the "
                    + "dispatcher's default", example = "2.5") Double cpsPerCallerId,
            @JsonProperty("allowed_caller_ids") @ArraySchema(arraySchema = @Schema(description = "E.164; empty: any "
                    + "caller ID"), schema = @Schema(example = "+918068281234")) List<String> allowedCallerIds,
            @JsonProperty("per_callee_daily_cap") @Schema(types = {"integer", "null"}, description = "Null: no cap",
                    example = "3") Integer perCalleeDailyCap,
            @JsonProperty("allowed_flow_ids") @ArraySchema(arraySchema = @Schema(description = "Empty: any flow"),
                    schema = @Schema(example = "23")) List<String> allowedFlowIds,
            @JsonProperty("updated_at") @Schema(types = {"string", "null"}, format = "date-time",
                    description = "When the settings were last replaced; null before the first PUT",
                    example = "2024-07-10T06:09:43.054164Z") String updatedAt) {
    }

    /** A calling window. */
    @Schema(name = "CallingWindow", requiredProperties = {"start", "end"}, description = "Local hours [start, end) "
            + "of the recipient: an end before the start spans midnight; equal times mean all day")
    record Window(@JsonProperty("start") @Schema(pattern = LOCAL_TIME, example = "09:30") String start,
                  @JsonProperty("end") @Schema(pattern = LOCAL_TIME, example = "20:00") String end) {
    }

    /** A campaign's own window. */
    @Schema(name = "CampaignWindow", requiredProperties = {"campaign", "start", "end"})
    record CampaignWindow(@JsonProperty("campaign") @Schema(description = "The campaign (`name` of its sends)",
                                  minLength = 1, maxLength = SettingsRequest.MAX_CAMPAIGN_LENGTH,
                                  example = "diwali_offer") String campaign,
                          @JsonProperty("start") @Schema(pattern = LOCAL_TIME, example = "10:00") String start,
                          @JsonProperty("end") @Schema(pattern = LOCAL_TIME, example = "21:00") String end) {
    }
}
