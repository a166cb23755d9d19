// Tests share libtorch's process-wide thread pool and seed; running them one at a time keeps timings and results stable.
[assembly: DoNotParallelize]
