package dev.dialer.api.webhook;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The webhook resources the API answers with; absent values are written as null, never dropped. */
final class WebhookResponses {

    private WebhookResponses() {
    }

    /** Answer to a create: with the rotation's answer, the only time the secret is shown. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "WebhookCreated", description = "A new webhook, with its signing secret (shown only here)")
    record Created(@JsonProperty("id") @Schema(example = "5f0c1a9e-3c1b-4d7e-9a51-2b8e6c0d4f11") String id,
                   @JsonProperty("url") @Schema(example = "https://crm.example.com/hooks/calls") String url,
                   @JsonProperty("description") @Schema(example = "CRM call status",
                           types = {"string", "null"}) String description,
                   @JsonProperty("secret") @Schema(description = "Standard Webhooks signing secret",
                           example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") String secret,
                   @JsonProperty("enabled") boolean enabled,
                   @JsonProperty("created_at") @Schema(format = "date-time",
                           example = "2024-07-10T06:09:43.054164Z") String createdAt) {

        static Created of(Webhook webhook) {
            return new Created(webhook.id(), webhook.url(), webhook.description(), webhook.secret(),
                    webhook.enabled(), DateTimeFormatter.ISO_INSTANT.format(webhook.createdAt()));
        }
    }

    /** A webhook as read back: no secret. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "Webhook", description = "A webhook endpoint; its secret is never shown again after create/rotate")
    record View(@JsonProperty("id") @Schema(example = "5f0c1a9e-3c1b-4d7e-9a51-2b8e6c0d4f11") String id,
                @JsonProperty("url") @Schema(example = "https://crm.example.com/hooks/calls") String url,
                @JsonProperty("description") @Schema(example = "CRM call status",
                        types = {"string", "null"}) String description,
                @JsonProperty("enabled") boolean enabled,
                @JsonProperty("disabled_reason") @Schema(description = "Why it is disabled: customer (through this "
                        + "API), gone (the endpoint answered 410) or failing (sustained failures)",
                        types = {"string", "null"}, example = "gone") String disabledReason,
                @JsonProperty("previous_secret_expires_at") @Schema(description = "While a rotated secret is "
                        + "still signed with, when it stops", types = {"string", "null"}, format = "date-time")
                String previousSecretExpiresAt,
                @JsonProperty("created_at") @Schema(format = "date-time") String createdAt,
                @JsonProperty("updated_at") @Schema(format = "date-time") String updatedAt) {

        static View of(Webhook webhook) {
            return new View(webhook.id(), webhook.url(), webhook.description(), webhook.enabled(),
                    webhook.disabledReason(), format(webhook.previousSecretAt(Instant.now())),
                    format(webhook.createdAt()), format(webhook.updatedAt()));
        }
    }

    /** Answer to a rotation: the new secret, shown once, and until when the old one is still signed with. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "WebhookSecret", description = "A webhook's new signing secret (shown only here)")
    record Rotated(@JsonProperty("id") String id,
                   @JsonProperty("secret") @Schema(example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD") String secret,
                   @JsonProperty("previous_secret_expires_at") @Schema(format = "date-time",
                           description = "Until then deliveries carry a signature with the previous secret too")
                   String previousSecretExpiresAt) {

        static Rotated of(Webhook webhook) {
            return new Rotated(webhook.id(), webhook.secret(), format(webhook.previousSecretExpiresAt()));
        }
    }

    /** The account's webhooks. */
    @Schema(name = "WebhookList")
    record Listing(@JsonProperty("data") List<View> data) {
    }

    private static String format(Instant instant) {
        return instant == null ? null : DateTimeFormatter.ISO_INSTANT.format(instant);
    }
}
