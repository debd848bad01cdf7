package ferry.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options with defaults; an unknown option or a bad value is a usage error naming it. */
public final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    public Args(String[] argv, int from, Set<String> known) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--") || a.length() < 3) {
                throw new UsageException("unexpected argument '" + a + "'; options look like --name value");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < argv.length) {
                value = argv[++i];
            } else {
                throw new UsageException("option --" + name + " needs a value");
            }
            if (!known.contains(name)) {
                throw new UsageException("unknown option --" + name + "; known: --" + String.join(", --", known));
            }
            values.put(name, value);
        }
    }

    public String str(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    public int integer(String name, int dflt, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int x = Integer.parseInt(v.trim());
            if (x < min || x > max) {
                throw new UsageException("--" + name + " must be in " + min + ".." + max + ", got " + x);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number, got '" + v + "'");
        }
    }

    public double real(String name, double dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    /** A command-line mistake: printed with the usage, exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }
}
