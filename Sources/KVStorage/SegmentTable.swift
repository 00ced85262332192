/// Bookkeeping for one segment file (guarded by the log lock).
struct SegmentInfo {
    /// Bytes of records in the segment, including ones still pending in memory.
    var totalBytes = 0
    /// Bytes of records that are superseded, deleted, expired, tombstones or flush markers.
    var deadBytes = 0
    /// Highest sequence number in the segment (0 when empty). Merge deletes old segments in
    /// ascending `maxSequence` order so a crash mid-deletion never resurrects a deleted key.
    var maxSequence: UInt64 = 0
    /// True once every byte is on disk and the segment will never be written again.
    var closed = false
    /// A valid hint file exists next to it.
    var hasHint = false
}
