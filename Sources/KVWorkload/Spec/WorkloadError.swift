/// Where a property value came from: a file line, or a `-p` override.
public enum PropertySource: Sendable, Equatable, CustomStringConvertible {
    case file(name: String, line: Int)
    case commandLine
    case defaultValue

    public var description: String {
        switch self {
        case .file(let name, let line): return "\(name):\(line)"
        case .commandLine: return "-p"
        case .defaultValue: return "default"
        }
    }
}

/// Every error the workload module reports; descriptions name the file, line and key.
public enum WorkloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The properties text itself is malformed (e.g. a bad `\u` escape).
    case syntax(file: String, line: Int, message: String)
    /// A `-p` argument without `=`.
    case badOverride(String)
    /// A value that does not parse or is out of range.
    case badValue(key: String, value: String, source: PropertySource, expected: String)
    /// Values that are fine alone but not together.
    case inconsistent(String)
    /// A file that could not be read.
    case unreadable(file: String)

    public var description: String {
        switch self {
        case .syntax(let file, let line, let message):
            return "\(file):\(line): \(message)"
        case .badOverride(let text):
            return "-p \(text): expected key=value"
        case .badValue(let key, let value, let source, let expected):
            return "\(source): property '\(key)' has value '\(value)'; expected \(expected)"
        case .inconsistent(let message):
            return "workload: \(message)"
        case .unreadable(let file):
            return "\(file): cannot read workload file"
        }
    }
}
