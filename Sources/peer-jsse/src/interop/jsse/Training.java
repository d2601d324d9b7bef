package interop.jsse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code training KEYSTORE DIR}: the build's training run for the class data sharing archive the
 * launcher uses. It writes the keytool-made key and certificate of KEYSTORE (PKCS#12, password
 * "training") as PEM into DIR and runs real cells over loopback in this JVM, TLS 1.3 and 1.2, so
 * the archive holds the classes a cell loads and a worker's first cell starts warm.
 */
final class Training {
    private Training() {}

    static void run(List<String> args) throws Exception {
        Path dir = Path.of(args.get(1));
        KeyStore store = KeyStore.getInstance("PKCS12");
        char[] password = "training".toCharArray();
        try (var in = Files.newInputStream(Path.of(args.get(0)))) {
            store.load(in, password);
        }
        String alias = store.aliases().nextElement();
        Key key = store.getKey(alias, password);
        Certificate cert = store.getCertificate(alias);
        Path certPath = dir.resolve("training.pem");
        Path keyPath = dir.resolve("training.key");
        Files.writeString(certPath, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPath, pem("PRIVATE KEY", ((PrivateKey) key).getEncoded()));
        for (String version : List.of("TLS1.3", "TLS1.2")) {
            CompletableFuture<Integer> port = new CompletableFuture<>();
            List<String> server = new ArrayList<>(List.of("server", "--cert", certPath.toString(), "--key",
                keyPath.toString(), "--ca", certPath.toString(), "--version", version, "--timeout-ms", "20000"));
            CellOutput serverOut = new CellOutput(true);
            serverOut.onListening = port::complete;
            Thread serving = new Thread(() -> {
                try {
                    new Cell(PeerRequest.parse(server), serverOut, System.nanoTime()).run();
                } catch (UsageException e) {
                    port.completeExceptionally(e);
                }
            });
            serving.start();
            List<String> client = List.of("client", "--port", port.get().toString(), "--ca", certPath.toString(),
                "--version", version, "--timeout-ms", "20000");
            new Cell(PeerRequest.parse(client), new CellOutput(true), System.nanoTime()).run();
            serving.join();
        }
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
            + "\n-----END " + label + "-----\n";
    }
}
