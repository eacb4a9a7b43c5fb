// UniqueFunction<R(Args...)>: a move-only std::function (C++23's std::move_only_function, which
// C++20 lacks), for callbacks that own what they capture (a responder, a response) and are
// called once.
//
// A callable of at most InlineBytes (and nothrow-movable) is stored inside the object: no heap
// allocation. libstdc++'s std::function stores only trivially copyable callables of two words
// inline, so every lambda that owns a shared_ptr or a string allocates there.
//
// Invariants: an empty UniqueFunction (default, nullptr, moved-from) must not be called (it
// aborts); operator bool tells. Not copyable; moving leaves the source empty.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace meridian {

template <typename Signature, size_t InlineBytes = 4 * sizeof(void*)>
class UniqueFunction;

template <typename R, typename... Args, size_t InlineBytes>
class UniqueFunction<R(Args...), InlineBytes> {
 public:
  UniqueFunction() noexcept = default;
  UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT: like std::function

  template <typename F, typename T = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<T, UniqueFunction> && std::is_invocable_r_v<R, T&, Args...>>>
  UniqueFunction(F&& f) {  // NOLINT: implicit, like std::function
    if constexpr (kStoredInline<T>) {
      ::new (static_cast<void*>(storage_)) T(std::forward<F>(f));
      ops_ = &kInlineOps<T>;
    } else {
      ::new (static_cast<void*>(storage_)) T*(new T(std::forward<F>(f)));
      ops_ = &kHeapOps<T>;
    }
  }

  UniqueFunction(UniqueFunction&& other) noexcept { TakeFrom(other); }
  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      Reset();
      TakeFrom(other);
    }
    return *this;
  }
  UniqueFunction& operator=(std::nullptr_t) noexcept {
    Reset();
    return *this;
  }
  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;
  ~UniqueFunction() { Reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) {
    if (!ops_) std::abort();
    return ops_->invoke(storage_, std::forward<Args>(args)...);
  }

 private:
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    void (*move)(void* from, void* to) noexcept;  // into uninitialized `to`; `from` is destroyed
    void (*destroy)(void* storage) noexcept;
  };

  template <typename T>
  static constexpr bool kStoredInline = sizeof(T) <= InlineBytes && alignof(T) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<T>;

  template <typename T>
  static constexpr Ops kInlineOps{
      [](void* s, Args&&... args) -> R { return (*std::launder(static_cast<T*>(s)))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept {
        T* f = std::launder(static_cast<T*>(from));
        ::new (to) T(std::move(*f));
        f->~T();
      },
      [](void* s) noexcept { std::launder(static_cast<T*>(s))->~T(); }};

  template <typename T>
  static constexpr Ops kHeapOps{
      [](void* s, Args&&... args) -> R { return (**std::launder(static_cast<T**>(s)))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept { ::new (to) T*(*std::launder(static_cast<T**>(from))); },
      [](void* s) noexcept { delete *std::launder(static_cast<T**>(s)); }};

  void TakeFrom(UniqueFunction& other) noexcept {
    if (!other.ops_) return;
    other.ops_->move(other.storage_, storage_);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }
  void Reset() noexcept {
    if (!ops_) return;
    const Ops* ops = ops_;
    ops_ = nullptr;
    ops->destroy(storage_);
  }

  alignas(std::max_align_t) unsigned char storage_[InlineBytes < sizeof(void*) ? sizeof(void*) : InlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace meridian
