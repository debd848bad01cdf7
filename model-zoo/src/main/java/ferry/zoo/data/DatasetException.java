package ferry.zoo.data;

import java.nio.file.Path;

/** A dataset file that is missing, unreadable or not in the expected format; names the path and what was expected. */
public class DatasetException extends RuntimeException {
    private final Path path;

    public DatasetException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    public DatasetException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    public Path path() {
        return path;
    }
}
