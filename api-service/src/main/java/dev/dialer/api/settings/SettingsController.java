package dev.dialer.api.settings;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.send.PreviewProperties;
import dev.dialer.common.contract.AccountSettings;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@code GET/PUT /api/v2/account/settings}: the caller's own account only. {@code PUT} replaces the settings whole
 * and answers once Kafka acknowledged them on {@code dialer.account.config}. An account without a window of its own
 * is shown the deployment's default ({@code dialer.api.preview.default-calling-window}, which the dispatcher's
 * matches), the window its calls are actually held to.
 */
@RestController
class SettingsController {

    private static final String PATH = "/api/v2/account/settings";
    private static final int MAX_BODY_BYTES = 128 * 1024;
    private static final String ANSWER = "Every setting with the value now in force";
    /** Bodies up to this many characters (a few caller IDs) are read on the thread that received them. */
    static final int INLINE_PARSE_CHARS = 2048;

    private final AccountSettingsStore store;
    private final PreviewProperties defaults;

    SettingsController(AccountSettingsStore store, PreviewProperties defaults) {
        this.store = store;
        this.defaults = defaults;
    }

    @GetMapping(path = PATH, produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "getAccountSettings", summary = "Read the account's settings",
            description = "The settings in force. A calling window the account did not set shows as the "
                    + "deployment's default, the window its calls are held to.")
    @ApiResponse(responseCode = "200", description = ANSWER, content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = SettingsDocs.View.class)))
    Mono<Map<String, Object>> get(@RequestAttribute(Account.ATTRIBUTE) Account account) {
        return store.current(account.id()).map(settings -> view(account, settings));
    }

    @PutMapping(path = PATH, produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "replaceAccountSettings", summary = "Replace the account's settings",
            description = "Replaces the settings whole (a setting left out takes its default) and answers once "
                    + "Kafka has them (`dialer.account.config`, which the dispatcher reads). Every invalid field is "
                    + "reported, each by name.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = SettingsDocs.Request.class),
                    examples = @ExampleObject(name = "every-setting", value = SettingsDocs.EXAMPLE))))
    @ApiResponse(responseCode = "200", description = ANSWER, content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = SettingsDocs.View.class)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "413", description = "The body is larger than 128 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<Map<String, Object>> put(@RequestAttribute(Account.ATTRIBUTE) Account account, ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> parsed(body, account, Instant.now().truncatedTo(ChronoUnit.MICROS)))
                .flatMap(store::replace)
                .map(settings -> view(account, settings));
    }

    /**
     * The settings the body gives. Normalising up to {@value SettingsRequest#MAX_CALLER_IDS} caller IDs with
     * libphonenumber is CPU work: a large body is read off the event loop serving connections, as the DNC import
     * is; a body of a few caller IDs takes less than the hop to another thread would cost it.
     */
    static Mono<AccountSettings> parsed(String body, Account account, Instant now) {
        Mono<AccountSettings> parsed = Mono.fromCallable(() -> SettingsRequest.parse(body, account.id(),
                account.defaultRegion(), now));
        return body != null && body.length() > INLINE_PARSE_CHARS ? parsed.subscribeOn(Schedulers.parallel()) : parsed;
    }

    /** Every setting with the value in force: a default shows as the default, never as absent. */
    Map<String, Object> view(Account account, AccountSettings stored) {
        AccountSettings settings = defaults.applyTo(stored);
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("account_id", account.id());
        view.put("default_region", AccountSettingsStore.regionOf(account, settings));
        view.put("calling_window", window(settings.windowFor(null)));
        view.put("campaign_windows", settings.campaignWindows().stream().map(window -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("campaign", window.campaign());
            entry.putAll(window(window.window()));
            return entry;
        }).toList());
        view.put("cps_per_caller_id", settings.cpsPerCallerId());
        view.put("allowed_caller_ids", List.copyOf(settings.allowedCallerIds()));
        view.put("per_callee_daily_cap", settings.perCalleeDailyCap());
        view.put("allowed_flow_ids", List.copyOf(settings.allowedFlowIds()));
        view.put("updated_at", settings.updatedAt());
        return view;
    }

    private static Map<String, Object> window(AccountSettings.CallingWindow window) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("start", window.start().toString());
        view.put("end", window.end().toString());
        return view;
    }
}
