package dev.tollgate.admin.internal;

import dev.tollgate.store.AccessSummary;
import dev.tollgate.store.AccessSummary.Bucket;
import dev.tollgate.store.AccessSummary.By;
import dev.tollgate.store.AccessSummary.Dimension;
import dev.tollgate.store.AccessSummary.Metric;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /api/v1/summary/series} and {@code GET /api/v1/summary/top}: the access log's time series and top-N
 * over a range, for the console's charts, answered from the roll-up tables ({@link AccessSummary}) so that they cost
 * the same whatever the size of the log. The range is rounded to whole buckets (top-N: whole hours), and the answer
 * names the range it covers.
 */
public final class SummaryResource {

    private static final Set<String> SERIES_PARAMETERS = Set.of("since", "until", "bucket", "by");
    private static final Set<String> TOP_PARAMETERS = Set.of("dim", "metric", "since", "until", "limit");
    static final int DEFAULT_LIMIT = 10;
    /** A top-N without {@code since} covers the day before {@code until}. */
    static final Duration DEFAULT_TOP_SPAN = Duration.ofHours(24);

    private final AccessSummary summary;
    private final Clock clock;

    public SummaryResource(AccessSummary summary, Clock clock) {
        this.summary = summary;
        this.clock = clock;
    }

    public void series(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(SERIES_PARAMETERS);
        AccessSummary.Series series;
        try {
            Bucket bucket = choice(exchange, "bucket", Bucket.class, Bucket.HOUR);
            By by = choice(exchange, "by", By.class, By.OUTCOME);
            Instant until = instant(exchange, "until", clock.instant());
            Instant since = instant(exchange, "since", until.minus(defaultSpan(bucket)));
            series = summary.series(bucket, by, since, until);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        List<Map<String, Object>> points = new ArrayList<>(series.points().size());
        for (AccessSummary.Point p : series.points()) {
            Map<String, Object> point = new LinkedHashMap<>();
            point.put("t", p.t().toString());
            point.put("requests", p.requests());
            point.put("bytesFromClient", p.bytesFromClient());
            point.put("bytesToClient", p.bytesToClient());
            point.put("counts", p.counts());
            points.add(point);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("bucket", lower(series.bucket()));
        body.put("by", lower(series.by()));
        body.put("since", series.since().toString());
        body.put("until", series.until().toString());
        body.put("points", points);
        exchange.sendJson(200, body);
    }

    public void top(ApiExchange exchange) throws Exception {
        exchange.allowOnlyQuery(TOP_PARAMETERS);
        AccessSummary.Top top;
        try {
            Dimension dim = choice(exchange, "dim", Dimension.class, null);
            if (dim == null) {
                throw new IllegalArgumentException("dim: missing; one of host, client, user, reason");
            }
            Metric metric = choice(exchange, "metric", Metric.class, Metric.REQUESTS);
            int limit = (int) AdminEventsResource.number(exchange, "limit", DEFAULT_LIMIT, 1, AccessSummary.MAX_LIMIT);
            Instant until = instant(exchange, "until", clock.instant());
            Instant since = instant(exchange, "since", until.minus(DEFAULT_TOP_SPAN));
            top = summary.top(dim, metric, since, until, limit);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        List<Map<String, Object>> rows = new ArrayList<>(top.rows().size());
        for (AccessSummary.Ranked r : top.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("key", r.key());
            row.put("requests", r.requests());
            row.put("bytesFromClient", r.bytesFromClient());
            row.put("bytesToClient", r.bytesToClient());
            rows.add(row);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("dim", lower(top.dim()));
        body.put("metric", lower(top.metric()));
        body.put("since", top.since().toString());
        body.put("until", top.until().toString());
        body.put("rows", rows);
        exchange.sendJson(200, body);
    }

    /** A series without {@code since}: an hour of minutes, a day of hours, a week of days. */
    static Duration defaultSpan(Bucket bucket) {
        return switch (bucket) {
            case MINUTE -> Duration.ofHours(1);
            case HOUR -> Duration.ofHours(24);
            case DAY -> Duration.ofDays(7);
        };
    }

    private static <E extends Enum<E>> E choice(ApiExchange exchange, String key, Class<E> type, E defaultValue) {
        E value = AccessLogResource.enumValue(key, type, exchange.query(key));
        return value == null ? defaultValue : value;
    }

    private static Instant instant(ApiExchange exchange, String key, Instant defaultValue) {
        Instant value = AccessLogResource.instant(key, exchange.query(key));
        return value == null ? defaultValue : value;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
