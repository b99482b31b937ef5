package dev.dialer.api.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class NulCharactersTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void namesEveryStringOfAJsonBodyHoldingANulByItsPath() {
        List<FieldProblem> errors = new ArrayList<>();

        NulCharacters.check("", JSON.readTree("""
                {"url":"ok","description":"a\\u0000","calling_window":{"start":"\\u0000"},
                 "campaign_windows":[{"campaign":"fine"},{"campaign":"b\\u0000"}],"n\\u0000":"x","count":3}"""),
                errors);

        assertThat(errors).extracting(FieldProblem::field).containsExactly("description", "calling_window.start",
                "campaign_windows[1].campaign", "n\u0000");
        assertThat(errors).extracting(FieldProblem::message).containsOnly(NulCharacters.MESSAGE);
    }

    @Test
    void namesEveryStringOfABodyReadIntoMapsAndLists() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", "918068281234");
        body.put("tag", Map.of("crm", "c\u00009"));
        body.put("headers", List.of("fine", "x\u0000"));
        body.put("timeout", 30);
        List<FieldProblem> errors = new ArrayList<>();

        NulCharacters.check("", body, errors);

        assertThat(errors).extracting(FieldProblem::field).containsExactly("tag.crm", "headers[1]");
    }

    @Test
    void leavesStringsWithoutANulAlone() {
        List<FieldProblem> errors = new ArrayList<>();

        NulCharacters.check("", JSON.readTree("{\"a\":\"\\\\u0000 written out is fine\",\"b\":[\"\",null]}"), errors);

        assertThat(errors).isEmpty();
        assertThat(NulCharacters.in(null)).isFalse();
    }
}
