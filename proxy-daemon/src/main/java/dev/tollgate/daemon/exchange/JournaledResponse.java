package dev.tollgate.daemon.exchange;

import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;

/**
 * The wire side of one request's answer, watched for the moment the client could have all of it: the write that
 * is the last one, or that completes a Content-Length body, or the head of an answer that has no body (HEAD, 204,
 * 304). Just before that write goes out, the request's record is appended to the journal
 * ({@link AccessRecorder#journalBeforeLastBytes}), so that no client holds a complete answer whose row a crash
 * could still lose. Every answer goes through here, forwarded, intercepted or refused, whichever handler wrote it
 * and whether Jetty or Tollgate makes the last write; a CONNECT's tunnel records itself.
 * <p>
 * If that write then fails (the client left at the last moment), the row already says what was about to be sent.
 */
final class JournaledResponse extends HttpStream.Wrapper {

    private static final int NO_CONTENT = 204;
    private static final int NOT_MODIFIED = 304;

    private final Request request;
    private final AccessRecorder recorder;
    // Written and read by the thread that sends, one send at a time (Jetty serialises a stream's sends).
    private int status;
    private long contentLength = -1;
    private boolean bodiless;
    private long bytesToClient;
    private boolean journaled;

    JournaledResponse(HttpStream stream, Request request, AccessRecorder recorder) {
        super(stream);
        this.request = request;
        this.recorder = recorder;
    }

    @Override
    public void send(MetaData.Request metaRequest, MetaData.Response response, boolean last, ByteBuffer content,
                     Callback callback) {
        if (response != null && !HttpStatus.isInformational(response.getStatus())) {
            status = response.getStatus();
            contentLength = response.getContentLength();
            bodiless = status == NO_CONTENT || status == NOT_MODIFIED || HttpMethod.HEAD.is(request.getMethod());
        }
        int length = content == null ? 0 : content.remaining();
        if (!journaled && status != 0
                && (last || bodiless || contentLength >= 0 && bytesToClient + length >= contentLength)) {
            journaled = true;
            try {
                recorder.journalBeforeLastBytes(request, status, bytesToClient + length);
            } catch (RuntimeException e) {
                // Nothing of it goes out: no client is answered in full without its record.
                callback.failed(e);
                return;
            }
        }
        bytesToClient += length;
        super.send(metaRequest, response, last, content, callback);
    }
}
