package dev.dialer.api.subscription;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The subscription resources the API answers with. */
final class SubscriptionResponses {

    private SubscriptionResponses() {
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "Subscription", description = "Event types of the account delivered to one of its webhooks")
    record View(@JsonProperty("id") @Schema(example = "0d4c6f1e-8a2b-4b7c-9e3f-5a1d2c3b4e5f") String id,
                @JsonProperty("webhook_id") @Schema(example = "5f0c1a9e-3c1b-4d7e-9a51-2b8e6c0d4f11") String webhookId,
                @JsonProperty("event_types") @ArraySchema(schema = @Schema(allowableValues = {"call.status",
                        "call.deferred", "call.final", "call.cancel_rejected", "webhook.disabled"})) List<String> eventTypes,
                @JsonProperty("enabled") boolean enabled,
                @JsonProperty("created_at") @Schema(format = "date-time") String createdAt,
                @JsonProperty("updated_at") @Schema(format = "date-time") String updatedAt) {

        static View of(Subscription subscription) {
            return new View(subscription.id(), subscription.webhookId(), subscription.eventTypes(),
                    subscription.enabled(), DateTimeFormatter.ISO_INSTANT.format(subscription.createdAt()),
                    DateTimeFormatter.ISO_INSTANT.format(subscription.updatedAt()));
        }
    }

    @Schema(name = "SubscriptionList")
    record Listing(@JsonProperty("data") List<View> data) {
    }

    /** The create body as documented (parsed by hand: {@link SubscriptionRequest}). */
    @Schema(name = "SubscriptionCreate", requiredProperties = {"webhook_id", "event_types"},
            additionalProperties = Schema.AdditionalPropertiesValue.FALSE)
    record CreateDoc(@JsonProperty("webhook_id") @Schema(description = "One of the account's webhooks",
                             example = "5f0c1a9e-3c1b-4d7e-9a51-2b8e6c0d4f11") String webhookId,
                     @JsonProperty("event_types") @ArraySchema(minItems = 1, uniqueItems = true,
                             schema = @Schema(allowableValues = {"call.status", "call.deferred", "call.final",
                                     "call.cancel_rejected", "webhook.disabled"})) List<String> eventTypes,
                     @JsonProperty("enabled") @Schema(description = "true unless given",
                             example = "true") Boolean enabled) {
    }

    /** The change body as documented. */
    @Schema(name = "SubscriptionChange", description = "The fields to change; at least one",
            additionalProperties = Schema.AdditionalPropertiesValue.FALSE)
    record ChangeDoc(@JsonProperty("webhook_id") String webhookId,
                     @JsonProperty("event_types") @ArraySchema(minItems = 1, uniqueItems = true,
                             schema = @Schema(allowableValues = {"call.status", "call.deferred", "call.final",
                                     "call.cancel_rejected", "webhook.disabled"})) List<String> eventTypes,
                     @JsonProperty("enabled") Boolean enabled) {
    }
}
