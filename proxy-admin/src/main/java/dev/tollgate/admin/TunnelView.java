package dev.tollgate.admin;

/**
 * One open CONNECT tunnel ({@code GET /api/v1/tunnels}).
 *
 * @param listener        the listener it came through
 * @param clientAddr      the client's address
 * @param clientPort      the client's port
 * @param host            the destination host as the client named it
 * @param port            the destination port
 * @param upstreamAddr    the address dialled
 * @param since           when the CONNECT arrived (ISO-8601 UTC)
 * @param bytesFromClient payload bytes from the client so far
 * @param bytesToClient   payload bytes to the client so far
 */
public record TunnelView(
        String listener,
        String clientAddr,
        int clientPort,
        String host,
        int port,
        String upstreamAddr,
        String since,
        long bytesFromClient,
        long bytesToClient) {
}
