import Foundation

/// Reads runs from disk: a `summary.json` file, a run directory (`kvbench run --out DIR`) or a directory
/// of run directories (repeated runs: every immediate subdirectory holding a `summary.json`, in name order).
public enum SummaryLoader {
    public static func load(_ path: String) throws(CompareError) -> [RunSummary] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missing(path) }
        if !isDirectory.boolValue { return [try read(path)] }
        let direct = path + "/summary.json"
        if fm.fileExists(atPath: direct) { return [try read(direct)] }
        let children = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
        let files = children.map { path + "/" + $0 + "/summary.json" }.filter { fm.fileExists(atPath: $0) }
        guard !files.isEmpty else { throw .noSummaries(path) }
        var runs: [RunSummary] = []
        for file in files { runs.append(try read(file)) }
        return runs
    }

    static func read(_ file: String) throws(CompareError) -> RunSummary {
        guard let data = FileManager.default.contents(atPath: file) else { throw .missing(file) }
        return try RunSummary.decode(data, source: file)
    }
}
