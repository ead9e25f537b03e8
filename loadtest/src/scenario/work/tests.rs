use super::*;
use crate::cli::{preset, Preset};

#[test]
fn ranges_stay_inside_their_object_and_sizes() {
    let plan = preset(Preset::Standard);
    for i in 0..2000 {
        let (object, start, len) = pick_range(&plan, 1, i);
        assert!(object < u64::from(plan.large_streams));
        assert!((plan.range_min..=plan.range_max).contains(&len));
        assert!(start + len <= plan.large_size);
    }
}

#[test]
fn choices_repeat_for_every_target() {
    let plan = preset(Preset::Quick);
    assert_eq!(pick_range(&plan, 0, 17), pick_range(&plan, 0, 17));
    assert_ne!(pick_range(&plan, 0, 17), pick_range(&plan, 1, 17));
    assert_eq!(small_size(3, 4096, 1 << 20), small_size(3, 4096, 1 << 20));
    assert_eq!(seed("cloak/large/0"), seed("cloak/large/0"));
    assert_ne!(seed("cloak/large/0"), seed("nginx/large/0"));
}

#[test]
fn listing_check_wants_every_key_in_order() {
    let keys: Vec<String> = (0..3).map(list_key).collect();
    check_listing(&keys, 3).unwrap();
    assert!(check_listing(&keys, 4).is_err());
    let swapped = vec![keys[1].clone(), keys[0].clone(), keys[2].clone()];
    assert!(check_listing(&swapped, 3).is_err());
    assert_eq!(list_key(42), "list/000042");
}
