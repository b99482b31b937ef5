package dev.dialer.api.send;

import java.util.List;

/**
 * The four request bodies of the curl examples in the {@code outgoing/send} API document, as curl sends them
 * ({@code -d '…'}: newlines and indentation included), with the document's {@code XXXX} placeholders filled with
 * digits so that the numbers are real.
 */
final class DocumentedBodies {

    static final String BRIDGE = "918068281234";
    static final String TO = "919876543215";

    static final String AUDIO_ID = """
            {
                "bridge":"918068281234",
                "to":"919876543215",
                "audio":"39888925-718e-43bb-a8b1-d4a3a1b2c",
                "name":"obd_api_call"
            }""";

    static final String FLOW_ID = """
            {
                "bridge":"918068281234",
                "to":"919876543215",
                "flow_id":"23",
                "name":"obd_api_call"
            }""";

    static final String FLOW_ID_WITH_VARIABLES = """
            {
                "bridge":"918068281234",
                "to":"919876543215",
                "flow_id":"24",
                "variables[Name]":"YourName",
                "variables[otp]":"123456"
            }""";

    static final String AUDIO_URL = """
            {
                "bridge":"918068281234",
                "to":"919876543215",
                "audio":"http://youraudiofilelocation.mp3",
                "name":"obd_api_call"
            }""";

    /** The first example exactly as printed, placeholders and all. */
    static final String AUDIO_ID_VERBATIM = """
            {
                "bridge":"91806828XXXX",
                "to":"918867135XXXX",
                "audio":"39888925-718e-43bb-a8b1-d4a3XXXXX",
                "name":"obd_api_call"
            }""";

    static List<String> all() {
        return List.of(AUDIO_ID, FLOW_ID, FLOW_ID_WITH_VARIABLES, AUDIO_URL);
    }

    private DocumentedBodies() {
    }
}
