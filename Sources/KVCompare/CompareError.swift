/// Why a comparison could not be made (bad input: `kvbench compare` exits 2).
public enum CompareError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case noSummaries(String)
    case notASummary(String, String)
    case mismatch(String)
    case badOption(String)

    public var description: String {
        switch self {
        case .missing(let path): "\(path): no such file or directory"
        case .noSummaries(let path): "\(path): no summary.json in it or in its subdirectories"
        case .notASummary(let path, let why): "\(path): not a kvbench summary.json (\(why))"
        case .mismatch(let why): "the runs do not measure the same workload: \(why)"
        case .badOption(let why): why
        }
    }
}
