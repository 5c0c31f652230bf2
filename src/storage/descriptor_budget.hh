// A bound on the file descriptors a store holds. Files being written stay
// open between writes for speed, but a stream may be writing thousands of
// shards at once (4096 x 4096 frames in 64 x 64 chunks: 4096 shards per row,
// more with many arrays or fields of view), far beyond RLIMIT_NOFILE. Each
// file is a Holder: it is opened when a write needs it; when the budget is
// spent, the holders idle longest are closed, to be reopened at their next
// write.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>

namespace zarr::storage {

class DescriptorBudget
{
  public:
    /// Something that holds descriptors while it is open.
    class Holder
    {
      public:
        virtual ~Holder() = default;

      protected:
        Holder() = default;
        Holder(const Holder&) = delete;
        Holder& operator=(const Holder&) = delete;

        /// How many descriptors open_descriptors() will open, at most.
        virtual size_t descriptors_needed() const noexcept = 0;
        /// Opens the holder's descriptors; returns how many it holds now
        /// (at least 1). Throws if they cannot be opened.
        virtual size_t open_descriptors() = 0;
        /// Closes them all; a failure is kept by the holder to report later.
        virtual void close_descriptors() noexcept = 0;

      private:
        friend class DescriptorBudget;
        size_t users_ = 0; // writes in progress: never closed while > 0
        size_t held_ = 0;  // descriptors held; 0: closed
        bool idle_ = false;
        std::list<Holder*>::iterator idle_at_;
    };

    /// While alive, `holder`'s descriptors are open and stay open.
    class Use
    {
      public:
        Use(DescriptorBudget& budget, Holder& holder);
        ~Use();
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

      private:
        DescriptorBudget& budget_;
        Holder& holder_;
    };

    /// At most `limit` descriptors at once, unless every open holder is in
    /// use (each writer thread then holds its own file open).
    explicit DescriptorBudget(size_t limit);

    /// A quarter of this process's soft RLIMIT_NOFILE, at least 8: the
    /// application around the library keeps most of its descriptors.
    static size_t default_limit();

    /// Closes `holder` for good and forgets it (before it is destroyed or
    /// once it is complete). Not while a Use of it is alive.
    void retire(Holder& holder) noexcept;

    size_t limit() const noexcept { return limit_; }
    /// Descriptors held now.
    size_t held() const;
    /// Most descriptors held at once so far.
    size_t peak() const;

  private:
    void acquire(Holder& holder);
    void release(Holder& holder) noexcept;
    void make_room(size_t wanted);

    const size_t limit_;
    mutable std::mutex mutex_;
    size_t held_ = 0;
    size_t peak_ = 0;
    std::list<Holder*> idle_; // open and unused, longest idle first
};

} // namespace zarr::storage
