package dev.tollgate.daemon.clients;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The fixture of a client test that wants a fresh origin and daemon for each case: a loopback origin and a
 * Tollgate whose listener may reach it, both stopped after each test. A test states its client's job only.
 */
abstract class OriginBehindTollgate {

    @TempDir
    Path dir;

    WebOrigin origin;
    RunningTollgate tollgate;

    /**
     * Starts the origin, serving the files under {@code www} and the git repositories under {@code gitRoot}
     * (either may be null), then the daemon, its state under {@code dir/tollgate}.
     */
    void startOriginAndTollgate(Path www, Path gitRoot) throws Exception {
        origin = WebOrigin.builder().files(www).git(gitRoot).start();
        tollgate = RunningTollgate.start(dir.resolve("tollgate"), RunningTollgate.loopbackListener());
    }

    @AfterEach
    void stopOriginAndTollgate() throws Exception {
        if (tollgate != null) {
            tollgate.close();
        }
        if (origin != null) {
            origin.close();
        }
    }
}
