package dev.tollgate.daemon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** What {@code tollgate check} hides when it prints the effective config. */
class CheckCommandMaskTest {

    @Test
    void everyValueOfAnOtlpSinksHeadersIsMaskedWhateverTheHeaderIsCalled() throws Exception {
        JsonNode config = new ObjectMapper().readTree("{\"sinks\": [{\"name\": \"otel\", \"type\": \"otlp\","
                + " \"url\": \"https://collector.example:4318/v1/logs\","
                + " \"headers\": {\"Authorization\": \"Bearer s3cret\", \"DD-API-KEY\": \"k3y\"}}]}");

        JsonNode masked = CheckCommand.masked(config);

        JsonNode sink = masked.at("/sinks/0");
        assertEquals(CheckCommand.MASK, sink.at("/headers/Authorization").asText());
        assertEquals(CheckCommand.MASK, sink.at("/headers/DD-API-KEY").asText());
        assertEquals("https://collector.example:4318/v1/logs", sink.get("url").asText());
        assertFalse(masked.toString().contains("s3cret") || masked.toString().contains("k3y"), masked.toString());
    }
}
