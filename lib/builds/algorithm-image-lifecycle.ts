import { BUILD_IMAGE_TAGS } from '../../lambda/contracts/builds';

/** A rule of an ECR lifecycle policy, as ECR reads its JSON. */
export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description: string;
  readonly selection: {
    readonly tagStatus: 'tagged';
    readonly tagPatternList: readonly string[];
    readonly countType: 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled';
    readonly countUnit?: 'days';
    readonly countNumber: number;
  };
  readonly action: { readonly type: 'expire' };
}

/**
 * More images than a repository may hold (ECR's images-per-repository quota is 20,000 unless
 * raised), so the rule that selects them never expires one.
 */
const MORE_THAN_A_REPOSITORY_HOLDS = 999_999;

/**
 * The algorithm repository's lifecycle policy. ECR evaluates every rule, but an image is expired
 * by at most one, and never by a rule of lower priority than one whose tags it matches; a rule's
 * pattern matches an image when any one of the image's tags matches it. Hence:
 *
 * 1. Any image with a `version-` tag matches the first rule, which keeps every such image: no
 *    later rule can expire it, whatever other tags it still carries (a candidate tag left by a
 *    failed untag, or the `retired-` tag of another version built from the same image).
 * 2. A retired version's image (`retired-` tag, its `version-` tag removed) goes `days` after it
 *    was last pulled. `sinceImagePushed` would count from the build, so a version that was active
 *    longer than `days` would go within a day of its retirement, under jobs still queued for it;
 *    each job's start pulls the image and restarts the count.
 * 3. A build's candidate (`build-` tag) that never became a version (refused, or its build failed
 *    after the push) goes `days` after its push; a build runs for hours at most.
 *
 * No rule selects untagged images: the parts of an image index are untagged, and a rule on
 * untagged images could expire them under an index that a version still names.
 */
export function algorithmImageLifecycle(days: number): { rules: LifecycleRule[] } {
  const pattern = (tag: (id: string) => string) => [tag('*')];
  return {
    rules: [
      {
        rulePriority: 1,
        description: 'Keep the images of versions',
        selection: {
          tagStatus: 'tagged',
          tagPatternList: pattern(BUILD_IMAGE_TAGS.version),
          countType: 'imageCountMoreThan',
          countNumber: MORE_THAN_A_REPOSITORY_HOLDS,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: `Expire the images of retired versions ${days} days after their last pull`,
        selection: {
          tagStatus: 'tagged',
          tagPatternList: pattern(BUILD_IMAGE_TAGS.retired),
          countType: 'sinceImagePulled',
          countUnit: 'days',
          countNumber: days,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 3,
        description: `Expire the images of builds that became no version ${days} days after their push`,
        selection: {
          tagStatus: 'tagged',
          tagPatternList: pattern(BUILD_IMAGE_TAGS.candidate),
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: days,
        },
        action: { type: 'expire' },
      },
    ],
  };
}
