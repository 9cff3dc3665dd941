//! Banks: accounts behind locks, and transfers between them. Two correct, one that
//! deadlocks, one that cannot deadlock but makes money. Not an exercise: exercise 12.4
//! checks them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Accounts numbered from 0, each with a balance, and transfers between them.
pub trait Bank: Send + Sync {
    /// Move `amount` from account `from` to account `to`, both at once as far as any other
    /// transfer can tell. Refused (`false`, nothing moves) if `from` holds less than
    /// `amount`. A transfer from an account to itself changes nothing.
    fn transfer(&self, from: usize, to: usize, amount: u64) -> bool;
    /// What account `account` holds.
    fn balance(&self, account: usize) -> u64;
}

/// How a check gets a fresh bank whose accounts hold `balances`, to share between its
/// threads.
pub type MakeBank = fn(balances: &[u64]) -> Arc<dyn Bank>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Move `amount` between two locked balances, if there is enough.
fn settle(from: &mut u64, to: &mut u64, amount: u64) -> bool {
    if *from < amount {
        return false;
    }
    *from -= amount;
    *to += amount;
    true
}

/// Correct: one lock per account, always taken lowest account number first. Two
/// transfers that need the same two accounts ask for them in the same order, so neither
/// can hold one while waiting for the other.
#[derive(Debug)]
pub struct OrderedBank {
    accounts: Vec<Mutex<u64>>,
}

impl OrderedBank {
    /// A bank with these balances, ready to share.
    pub fn shared(balances: &[u64]) -> Arc<dyn Bank> {
        Arc::new(OrderedBank {
            accounts: balances.iter().map(|&b| Mutex::new(b)).collect(),
        })
    }
}

impl Bank for OrderedBank {
    fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        if from == to {
            return true;
        }
        let (first, second) = (from.min(to), from.max(to));
        let mut first = lock(&self.accounts[first]);
        let mut second = lock(&self.accounts[second]);
        if from < to {
            settle(&mut first, &mut second, amount)
        } else {
            settle(&mut second, &mut first, amount)
        }
    }

    fn balance(&self, account: usize) -> u64 {
        *lock(&self.accounts[account])
    }
}

/// Correct, differently: one lock for the whole bank. No transfers run in parallel, and
/// none can deadlock: there is only one lock to wait for.
#[derive(Debug)]
pub struct OneLockBank {
    accounts: Mutex<Vec<u64>>,
}

impl OneLockBank {
    /// A bank with these balances, ready to share.
    pub fn shared(balances: &[u64]) -> Arc<dyn Bank> {
        Arc::new(OneLockBank {
            accounts: Mutex::new(balances.to_vec()),
        })
    }
}

impl Bank for OneLockBank {
    fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        let mut accounts = lock(&self.accounts);
        if from == to {
            return true;
        }
        if accounts[from] < amount {
            return false;
        }
        accounts[from] -= amount;
        accounts[to] += amount;
        true
    }

    fn balance(&self, account: usize) -> u64 {
        lock(&self.accounts)[account]
    }
}

/// How long [`LockOrderBank`] holds its first lock before asking for the second. A real
/// lock-order deadlock needs two transfers to interleave within a few instructions; this
/// window is widened on purpose, so that two threads transferring in opposite directions
/// deadlock on every run.
pub const LOCK_WINDOW: Duration = Duration::from_millis(1);

/// **Planted bug: a lock-order deadlock.** It locks `from`, then `to`. A transfer from 0
/// to 1 holds 0 and waits for 1 while a transfer from 1 to 0 holds 1 and waits for 0:
/// both wait forever.
#[derive(Debug)]
pub struct LockOrderBank {
    accounts: Vec<Mutex<u64>>,
}

impl LockOrderBank {
    /// A bank with these balances, ready to share.
    pub fn shared(balances: &[u64]) -> Arc<dyn Bank> {
        Arc::new(LockOrderBank {
            accounts: balances.iter().map(|&b| Mutex::new(b)).collect(),
        })
    }
}

impl Bank for LockOrderBank {
    fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        if from == to {
            return true;
        }
        let mut source = lock(&self.accounts[from]);
        thread::sleep(LOCK_WINDOW); // the window, widened: the other transfer takes `to` here
        let mut target = lock(&self.accounts[to]);
        settle(&mut source, &mut target, amount)
    }

    fn balance(&self, account: usize) -> u64 {
        *lock(&self.accounts[account])
    }
}

/// **Planted bug: one lock at a time.** Its author, told about the deadlock, made sure a
/// transfer never holds two locks: it reads what the target will hold, takes the money out
/// of the source, and then writes the target — each step under its own lock. Nothing can
/// deadlock now, but a transfer is no longer one step: a transfer the other way that runs
/// in between has its debit overwritten by the stale credit, and money appears. A check
/// that only waits for the threads to finish passes it; one that then counts the money
/// does not.
#[derive(Debug)]
pub struct OneLockAtATimeBank {
    accounts: Vec<Mutex<u64>>,
}

impl OneLockAtATimeBank {
    /// A bank with these balances, ready to share.
    pub fn shared(balances: &[u64]) -> Arc<dyn Bank> {
        Arc::new(OneLockAtATimeBank {
            accounts: balances.iter().map(|&b| Mutex::new(b)).collect(),
        })
    }
}

impl Bank for OneLockAtATimeBank {
    fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        if from == to {
            return true;
        }
        let credited = *lock(&self.accounts[to]) + amount; // read, and let go
        {
            let mut source = lock(&self.accounts[from]);
            if *source < amount {
                return false;
            }
            *source -= amount;
        }
        thread::sleep(LOCK_WINDOW); // the window, widened: the other transfer debits `to` here
        *lock(&self.accounts[to]) = credited; // …and this overwrites that debit
        true
    }

    fn balance(&self, account: usize) -> u64 {
        *lock(&self.accounts[account])
    }
}
