package dev.tollgate.daemon.report;

import dev.tollgate.store.AccessSummary;
import dev.tollgate.store.AccessSummary.Bucket;
import dev.tollgate.store.AccessSummary.By;
import dev.tollgate.store.AccessSummary.Dimension;
import dev.tollgate.store.AccessSummary.Metric;
import dev.tollgate.store.AccessSummary.Point;
import dev.tollgate.store.AccessSummary.Series;
import dev.tollgate.store.AccessSummary.Top;
import dev.tollgate.store.Outcome;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Objects;

/**
 * What {@code tollgate report} says about a period: totals, the volume of each day, the top sites, users and
 * clients, and the refusals by rule. Gathered through {@link AccessSummary}, the query layer behind the console's
 * charts and the admin API's summary endpoints, so that a report and the console show the same numbers, and read
 * from the roll-ups, so that a week of a busy proxy costs a handful of small queries.
 * <p>
 * The period is whole days (UTC): {@code since} is rounded down and {@code until} up to midnight, and every part of
 * the report covers that same range, so the days add up to the totals.
 *
 * @param since             the first day's start
 * @param until             the end of the last day (exclusive)
 * @param made              when the report was gathered
 * @param totals            the whole period, split by outcome
 * @param days              one point a day, split by outcome
 * @param hostsByRequests   the sites with the most requests
 * @param hostsByBytes      the sites with the most bytes, both ways together
 * @param usersByRequests   the proxy users with the most requests (rows with a user name only)
 * @param usersByBytes      the proxy users with the most bytes
 * @param clientsByRequests the client addresses with the most requests
 * @param refusals          the outcomes and reasons of the requests that were not OK, most frequent first
 */
public record Report(Instant since, Instant until, Instant made, Point totals, Series days, Top hostsByRequests,
                     Top hostsByBytes, Top usersByRequests, Top usersByBytes, Top clientsByRequests, Top refusals) {

    /** The most values a top list may have, as for the admin API. */
    public static final int MAX_TOP = AccessSummary.MAX_LIMIT;

    public Report {
        Objects.requireNonNull(totals, "totals");
        Objects.requireNonNull(days, "days");
    }

    /**
     * Gathers the report of the whole days from {@code since} to {@code until} with {@code top} values in each
     * list.
     *
     * @throws IllegalArgumentException when the period is empty or longer than the summary allows, or {@code top}
     *                                  is not from 1 to {@value #MAX_TOP}
     */
    public static Report gather(AccessSummary summary, Instant since, Instant until, int top, Instant made)
            throws SQLException {
        Series days = summary.series(Bucket.DAY, By.OUTCOME, since, until);
        Instant from = days.since();
        Instant to = days.until();
        return new Report(from, to, made, summary.totals(from, to), days,
                summary.top(Dimension.HOST, Metric.REQUESTS, from, to, top),
                summary.top(Dimension.HOST, Metric.BYTES, from, to, top),
                summary.top(Dimension.USER, Metric.REQUESTS, from, to, top),
                summary.top(Dimension.USER, Metric.BYTES, from, to, top),
                summary.top(Dimension.CLIENT, Metric.REQUESTS, from, to, top),
                summary.top(Dimension.REASON, Metric.REQUESTS, from, to, top));
    }

    /** Requests of {@code p} that were not OK: refused, failed upstream, or cut by the client. */
    public static long notOk(Point p) {
        return p.requests() - count(p, Outcome.OK);
    }

    /** Requests of {@code p} refused for wrong proxy credentials ({@code AUTH_FAILED}; not the 407 challenge). */
    public static long authFailures(Point p) {
        return count(p, Outcome.AUTH_FAILED);
    }

    private static long count(Point p, Outcome outcome) {
        Long n = p.counts().get(outcome.name());
        return n == null ? 0 : n;
    }
}
