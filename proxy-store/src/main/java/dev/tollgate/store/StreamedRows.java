package dev.tollgate.store;

/**
 * What a streaming read of the access log handed to its sink: how many rows, and where the next page starts.
 *
 * @param count  rows given to the sink
 * @param lastId the id of the last of them; when there were none, the query's own {@code after}. Either way
 *               {@code q.withAfter(lastId)} is the next page, and a page with fewer than {@code q.limit()}
 *               rows was the last one for now.
 */
public record StreamedRows(long count, long lastId) {
}
