package dev.tollgate.daemon.cli;

import dev.tollgate.daemon.Daemon;
import dev.tollgate.daemon.ListenerFiles;
import dev.tollgate.daemon.config.ConfigException;
import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.sql.ReportCommand;
import dev.tollgate.daemon.sql.SqlCommand;
import dev.tollgate.daemon.sql.VerifyCommand;
import dev.tollgate.store.SchemaTooNewException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** The {@code tollgate} command line. Exit codes: 0 done, 1 could not start or run, 2 bad usage or config. */
@Command(name = "tollgate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "An auditing HTTP/HTTPS forward proxy.",
        subcommands = {Main.Run.class, CheckCommand.class, SqlCommand.class, VerifyCommand.class, ReportCommand.class,
                CaCommand.class, Main.PrintVersion.class})
public final class Main implements Runnable {

    static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(newCommandLine(), args));
    }

    /**
     * The exit code of {@code commandLine} on {@code args}. picocli hands exceptions to the handler above but
     * lets an Error (OutOfMemoryError, a class missing from the lib directory) through; were it to leave main,
     * System.exit would never run, and Jetty's threads would keep a daemon alive that has taken SIGTERM over and
     * so could only be killed with SIGKILL. It is reported and ends the process with 1 instead.
     */
    public static int execute(CommandLine commandLine, String[] args) {
        try {
            return commandLine.execute(args);
        } catch (Throwable t) {
            commandLine.getErr().println("tollgate: internal error: " + t);
            t.printStackTrace(commandLine.getErr());
            return EXIT_FAILURE;
        }
    }

    public static CommandLine newCommandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true) // --format csv
                // Bad usage (unknown option, no command) is a ParameterException: exit 2, as for a bad config.
                .setExitCodeExceptionMapper(e -> e instanceof ConfigException
                        || e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILURE)
                .setExecutionExceptionHandler((e, commandLine, parseResult) -> {
                    commandLine.getErr().println("tollgate: " + e.getMessage());
                    return e instanceof ConfigException ? EXIT_USAGE : EXIT_FAILURE;
                });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a command is needed: run, check, sql, verify, ca or version");
    }

    /**
     * {@code tollgate run}: runs the daemon until SIGTERM or SIGINT, then stops it gracefully and exits 0; SIGHUP
     * reloads the config file.
     */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the proxy in the foreground (embedded defaults without --config).")
    static final class Run implements Callable<Integer> {

        private static final Logger LOG = LoggerFactory.getLogger(Run.class);

        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "tollgate.json to use; without it the embedded defaults apply.")
        private Path configFile;

        @Override
        public Integer call() throws Exception {
            TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
            ListenerFiles.check(config, configFile);
            // Before the start, so that a SIGTERM right after "started" is a graceful stop (exit 0), not exit 143.
            CountDownLatch stop = new CountDownLatch(1);
            StopSignals.install(stop::countDown);
            // Before the start too: a SIGHUP while starting must not end the process (129). It is kept and
            // carried out once the daemon has started (systemctl reload right after a start is not lost).
            AtomicReference<Daemon> running = new AtomicReference<>();
            AtomicBoolean reloadWhileStarting = new AtomicBoolean();
            boolean reloadsOnHup = StopSignals.installReload(() -> {
                Daemon started = running.get();
                if (started != null) {
                    started.reloadOnSignal();
                    return;
                }
                LOG.info("reload (SIGHUP) - the daemon is still starting: reloading once it has started");
                reloadWhileStarting.set(true);
                // The start may have ended just now, after the check above and before the flag was set.
                reloadIfAsked(running.get(), reloadWhileStarting);
            });
            if (!reloadsOnHup) {
                LOG.warn("reload - SIGHUP does not reach this process (it was started with SIGHUP ignored, e.g."
                        + " under nohup): reload with POST /api/v1/reload instead");
            }
            Daemon daemon;
            try {
                daemon = Daemon.start(config, configFile);
                running.set(daemon);
                reloadIfAsked(daemon, reloadWhileStarting);
            } catch (ConfigException e) {
                throw e;
            } catch (SchemaTooNewException e) {
                // Exit 2 like a bad config: restarting cannot help, only running the release the database has.
                throw new ConfigException("cannot start: " + e.getMessage(), e);
            } catch (Exception e) {
                throw new IllegalStateException("cannot start: " + rootMessage(e), e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "tollgate-shutdown"));
            stop.await();
            LOG.info("stop requested");
            daemon.close();
            return EXIT_OK;
        }

        /**
         * Carries out a reload asked for while the daemon was starting, once {@code daemon} has started (null: not
         * yet). The signal's thread and the starting thread both call this; taking the flag makes it happen once.
         */
        private static void reloadIfAsked(Daemon daemon, AtomicBoolean asked) {
            if (daemon != null && asked.getAndSet(false)) {
                daemon.reloadOnSignal();
            }
        }

        private static String rootMessage(Throwable e) {
            String message = e.getMessage();
            return message == null ? e.toString() : message;
        }
    }

    /** {@code tollgate version}. */
    @Command(name = "version", description = "Print the version and exit.")
    static final class PrintVersion implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println("tollgate " + Version.number());
            return EXIT_OK;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        static String number() {
            try (InputStream in = Main.class.getResourceAsStream("/tollgate-version.properties")) {
                Properties properties = new Properties();
                if (in != null) {
                    properties.load(in);
                }
                return properties.getProperty("version", "unknown");
            } catch (IOException e) {
                return "unknown";
            }
        }

        @Override
        public String[] getVersion() {
            return new String[] {"tollgate " + number()};
        }
    }
}
