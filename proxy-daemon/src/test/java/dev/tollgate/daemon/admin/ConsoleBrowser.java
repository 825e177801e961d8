package dev.tollgate.daemon.admin;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

/**
 * A headless Chromium driven through chromedriver (Debian's packages {@code chromium} and {@code chromium-driver},
 * which .ci/run installs), with the flags that keep it off the network: it talks to 127.0.0.1 only. Its
 * performance log (every request the page sends, with its headers) and its console log (CSP violations) are
 * kept for the tests to read.
 *
 * <p>Without Chromium the browser tests fail, saying what to install, so that CI cannot pass them by skipping;
 * {@code -Dtollgate.skipBrowserTests=true} (or {@code TOLLGATE_SKIP_BROWSER_TESTS=true}) skips them on a
 * machine that has none.
 */
final class ConsoleBrowser implements AutoCloseable {

    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("TOLLGATE_CHROMIUM", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("TOLLGATE_CHROMEDRIVER",
            "/usr/bin/chromedriver"));

    private final ChromeDriver driver;
    private final List<LogEntry> performance = new ArrayList<>();
    private final List<LogEntry> console = new ArrayList<>();

    private ConsoleBrowser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** Starts Chromium with a fresh profile in {@code profile}; downloads go to {@code downloads}. */
    static ConsoleBrowser start(Path profile, Path downloads) throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String missing = CHROMIUM + " or " + CHROMEDRIVER + " is missing";
            Assumptions.assumeFalse(Boolean.getBoolean("tollgate.skipBrowserTests")
                    || "true".equals(System.getenv("TOLLGATE_SKIP_BROWSER_TESTS")), missing + ": skipped as asked");
            throw new AssertionError(missing + ": install Debian's chromium and chromium-driver (.ci/run does), or"
                    + " skip the browser tests on this machine with -Dtollgate.skipBrowserTests=true");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,800");
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.PERFORMANCE, Level.ALL);
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ConsoleBrowser(new ChromeDriver(service, options));
    }

    ChromeDriver driver() {
        return driver;
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    List<WebElement> findAll(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** The text of the first element {@code css} selects, or null when there is none yet. */
    String textOf(String css) {
        List<WebElement> found = findAll(css);
        return found.isEmpty() ? null : found.get(0).getText();
    }

    void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** Saves what the page shows now as target/console-screenshots/{name}.png. */
    Path screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Path file = SCREENSHOTS.resolve(name + ".png");
        Files.copy(shot.toPath(), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    /** Every Chrome DevTools event logged so far (JSON text: Network.requestWillBeSent and the rest). */
    List<String> performanceLog() {
        driver.manage().logs().get(LogType.PERFORMANCE).forEach(performance::add);
        return performance.stream().map(LogEntry::getMessage).toList();
    }

    /** Every console message so far (errors such as a refused script or style among them). */
    List<String> consoleLog() {
        driver.manage().logs().get(LogType.BROWSER).forEach(console::add);
        return console.stream().map(LogEntry::getMessage).toList();
    }

    @Override
    public void close() {
        driver.quit();
    }
}
