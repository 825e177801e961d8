package dev.tollgate.daemon.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One definition of status classes for the stats and the metrics. */
class StatusClassTest {

    @Test
    void eachStatusFallsInTheClassOfItsFirstDigitAndAnythingElseIsOther() {
        assertEquals("1xx", StatusClass.of(100).label);
        assertEquals("2xx", StatusClass.of(200).label);
        assertEquals("3xx", StatusClass.of(399).label);
        assertEquals("4xx", StatusClass.of(407).label);
        assertEquals("5xx", StatusClass.of(508).label);
        assertEquals(StatusClass.OTHER, StatusClass.of(0));
        assertEquals(StatusClass.OTHER, StatusClass.of(99));
        assertEquals(StatusClass.OTHER, StatusClass.of(600));
    }

    @Test
    void theStatsListTheFiveDefinedClassesInOrder() {
        StringBuilder labels = new StringBuilder();
        for (StatusClass statusClass : StatusClass.DEFINED) {
            labels.append(statusClass.label).append(' ');
        }
        assertEquals("1xx 2xx 3xx 4xx 5xx ", labels.toString());
    }
}
