//! Nested group membership: a group inside another group passes its members on, and
//! directories do contain cycles (A in B in A), so the walk must remember where it has been.

/// Direct "is a member of" edges between entries, by entry index.
pub(super) struct Memberships {
    parents: Vec<Vec<usize>>,
}

impl Memberships {
    pub(super) fn new(entries: usize) -> Memberships {
        Memberships { parents: vec![Vec::new(); entries] }
    }

    /// Records that entry `member` is a direct member of group entry `group`.
    pub(super) fn add(&mut self, member: usize, group: usize) {
        if let Some(parents) = self.parents.get_mut(member) {
            if !parents.contains(&group) {
                parents.push(group);
            }
        }
    }

    /// Every group `member` belongs to, directly or through nested groups, each once:
    /// direct groups first (in entry order), then the groups those belong to.
    pub(super) fn groups_of(&self, member: usize) -> Vec<usize> {
        let mut reached: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        seen.insert(member);
        let mut next = 0;
        let mut frontier = self.sorted_parents(member);
        loop {
            for group in frontier {
                if seen.insert(group) {
                    reached.push(group);
                }
            }
            let Some(&group) = reached.get(next) else { break };
            next += 1;
            frontier = self.sorted_parents(group);
        }
        reached
    }

    fn sorted_parents(&self, member: usize) -> Vec<usize> {
        let mut parents = self.parents.get(member).cloned().unwrap_or_default();
        parents.sort_unstable();
        parents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_followed_and_cycles_end() {
        // 0 is an account; 1 in 2 in 3 in 1 (a cycle); 0 in 1 and 3.
        let mut m = Memberships::new(4);
        m.add(0, 3);
        m.add(0, 1);
        m.add(1, 2);
        m.add(2, 3);
        m.add(3, 1);
        assert_eq!(m.groups_of(0), [1, 3, 2]);
        assert_eq!(m.groups_of(2), [3, 1]);
    }
}
