package dev.tollgate.daemon.cli;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.tls.LocalCa;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code tollgate ca export}: prints the interception CA's certificate in PEM, for installing on clients
 * (docs/interception.md). The CA is made in {@code <stateDir>/ca/} if it does not exist yet, as the daemon
 * would on first use, so that clients can trust it before interception is turned on.
 */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = {"The TLS interception CA. \"ca export\" prints its certificate in PEM on standard output,"
                + " for installing on clients (docs/interception.md); the CA is made in <stateDir>/ca/ first if it"
                + " does not exist yet (run it as the daemon's user, or as root: new files are given to the owner"
                + " of the state directory)."})
final class CaCommand implements Callable<Integer> {

    /** What {@code ca} can do. */
    enum Action { export }

    @Parameters(index = "0", paramLabel = "export", description = "export: print the CA certificate (PEM).")
    private Action action;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "tollgate.json whose stateDir holds the CA; without it the embedded defaults apply.")
    private Path configFile;

    @Override
    public Integer call() {
        TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
        System.out.print(LocalCa.loadOrCreate(config.stateDirPath()).certificatePem());
        return Main.EXIT_OK;
    }
}
